"""Downloads name their file by RFC 6266/5987 whatever its characters (api/downloads.py), through
one helper that every download of the API uses."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from api.downloads import content_disposition
from tests.test_documents import PDF, upload

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["Rechnung–März€.pdf", "価格表.pdf", 'Angebot "final" \\ v2;x.pdf', "Zeile\r\nSet-Cookie: a=b.pdf",
         "100%.pdf", "plain-name_1.pdf", "..", "", "\u202egpj.exe", "ﬁle.pdf"]


HEADER = re.compile(r"(attachment|inline); filename=\"([^\"\\]*)\""
                    r"(?:; filename\*=UTF-8''([A-Za-z0-9%!#$&+\-.^_`|~]+))?")


def parse(header: str) -> tuple[str, str, str | None]:
    match = HEADER.fullmatch(header)
    assert match, header
    kind, fallback, encoded = match.groups()
    return kind, fallback, unquote(encoded, errors="strict") if encoded else None


@pytest.mark.parametrize("name", NAMES)
def test_every_name_gives_a_valid_header(name):
    header = content_disposition(name)
    header.encode("latin-1")  # what Starlette needs of a header
    kind, fallback, full = parse(header)
    assert kind == "attachment" and fallback and fallback.isascii() and fallback.isprintable()
    assert not set(fallback) & set('"\\%;\r\n') and fallback.strip(".")
    shown = full if full is not None else fallback
    assert not any(ch in shown for ch in "\r\n\x00/\\\u202e")


def test_names_keep_their_letters():
    assert parse(content_disposition("Rechnung–März€.pdf", "inline")) == (
        "inline", "Rechnung_Marz_.pdf", "Rechnung–März€.pdf")
    assert parse(content_disposition("価格表.pdf")) == ("attachment", "___.pdf", "価格表.pdf")
    assert parse(content_disposition("offer-OFF-2026-0012.pdf")) == ("attachment", "offer-OFF-2026-0012.pdf", None)


@pytest.mark.parametrize("name", ["Rechnung–März€.pdf", "価格表.pdf"])
def test_a_document_with_a_non_latin_name_downloads(api, name):
    customer = api.post("/customers", {"name": "Unicode GmbH"}, user="sam").json()
    document = upload(api, "customer", customer["id"], name, PDF)
    assert document.status_code == 201, document.text
    response = api.get(f"/documents/{document.json()['id']}/content", user="sam")
    assert response.status_code == 200 and response.content == PDF
    assert parse(response.headers["content-disposition"])[2] == name


def test_every_download_of_the_api_uses_the_helper():
    hand_made = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "api").rglob("*.py"))
                 if path.name != "downloads.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "filename=" in line or ("Content-Disposition" in line and "content_disposition(" not in line)]
    assert hand_made == []
    users = {path.name for path in (ROOT / "api" / "routers").glob("*.py")
             if "content_disposition(" in path.read_text(encoding="utf-8")}
    assert users == {"documents.py", "imports.py", "inbound_mails.py", "offer_links.py", "offers.py", "invoices.py",
                     "direct_debits.py", "datev_exports.py", "dunning.py"}
