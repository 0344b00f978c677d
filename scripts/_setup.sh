# Shared by scripts/start and scripts/test: installs what Kontor needs into .venv/ (idempotent).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Debian packages Kontor's tests and embedded mode need: Dovecot is the IMAP server (and, over LMTP,
# the mailbox the local SMTP server delivers into); Pango, HarfBuzz's subsetter and the DejaVu fonts
# are what WeasyPrint renders the PDFs with; Chromium is the browser of the page tests.
# KONTOR_DEBIAN_PACKAGES adds more.
DEBIAN_PACKAGES=(dovecot-imapd dovecot-lmtpd libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
                 chromium ${KONTOR_DEBIAN_PACKAGES:-})

install_debian_packages() {
  local missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

find_python() {
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)'; then
      echo "$candidate"; return 0
    fi
  done
  echo "Kontor needs Python 3.11 or 3.12" >&2; return 1
}

install_python_packages() {
  local stamp=.venv/.kontor-installed
  local want
  want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -x .venv/bin/python ]; then
    "$(find_python)" -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -x .venv/bin/kontor ]; then
    echo "installing Python packages into .venv/ ..."
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
    echo "$want" > "$stamp"
  fi
}

install_debian_packages
install_python_packages
