"""The Content-Disposition of every download (RFC 6266): the file's name as UTF-8 in `filename*`
(RFC 5987, percent-encoded) and an ASCII stand-in in `filename` for clients that know only that.
Names are what users uploaded or mail senders chose: nothing of them may break the header."""
from __future__ import annotations

import unicodedata
from typing import Literal
from urllib.parse import quote

_ATTR_CHARS = "!#$&+-.^_`|~"  # RFC 5987 attr-char besides letters and digits: unencoded in filename*
_NOT_IN_QUOTES = set('"\\%;')  # a quoted filename must not end early, escape, or look encoded


def _clean(filename: str) -> str:
    """The name without control and format characters or path separators; "download" if nothing is left."""
    name = "".join(ch for ch in filename if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    name = name.replace("/", "_").replace("\\", "_").strip()
    return name if name.strip(".") else "download"


def _ascii_stand_in(name: str) -> str:
    """Printable ASCII: letters lose their accents (März → Marz), other characters become `_`."""
    out = []
    for ch in name:
        plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii")
        out.append("_" if not plain or ch in _NOT_IN_QUOTES else plain)
    return "".join(out)


def content_disposition(filename: str, disposition: Literal["attachment", "inline"] = "attachment") -> str:
    """e.g. `attachment; filename="Rechnung_Marz_.pdf"; filename*=UTF-8''Rechnung%E2%80%93M%C3%A4rz%E2%82%AC.pdf`;
    only `filename="…"` when the name is plain ASCII."""
    name = _clean(filename)
    stand_in = _ascii_stand_in(name)
    if stand_in == name:
        return f'{disposition}; filename="{name}"'
    return f"{disposition}; filename=\"{stand_in}\"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"
