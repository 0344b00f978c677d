"""The new text of a reply, without the quoted history below it: German and English reply headers
("Am … schrieb …:", "On … wrote:"), Outlook's header blocks ("Von:/Gesendet:", "From:/Sent:") and
separators, forwarded-message markers, '>' quotes, and a signature delimiter ("-- ")."""
from __future__ import annotations

import re

_ATTRIBUTION = [
    re.compile(r"^\s*Am .{0,200}schrieb .{0,200}:\s*$", re.IGNORECASE),
    re.compile(r"^\s*On .{0,200}wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Le .{0,200}a écrit\s*:\s*$", re.IGNORECASE),
]
_SEPARATORS = [
    re.compile(r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Originalnachricht|Forwarded message|"
               r"Weitergeleitete Nachricht)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{20,}\s*$"),  # Outlook's line above its header block
    re.compile(r"^\s*Begin forwarded message:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Anfang der weitergeleiteten Nachricht:\s*$", re.IGNORECASE),
]
_OUTLOOK_HEADER = re.compile(r"^\s*\**(Von|From)\**\s*:\s*\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\**(Gesendet|Sent|Datum|Date|An|To|Betreff|Subject)\**\s*:", re.IGNORECASE)
_SIGNATURE = re.compile(r"^-- ?$")


def _joined_attribution(lines: list[str], index: int) -> bool:
    """Gmail wraps a long 'On … wrote:' over two lines."""
    if index + 1 >= len(lines):
        return False
    joined = f"{lines[index].strip()} {lines[index + 1].strip()}"
    return any(p.match(joined) for p in _ATTRIBUTION)


def reply_text(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    quoted_tail = len(lines)  # where the block of quotes (and blank lines) that ends the text starts
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip() and not lines[index].startswith(">"):
            break
        quoted_tail = index
    cut = len(lines)
    for index, line in enumerate(lines):
        if any(p.match(line) for p in _ATTRIBUTION) or any(p.match(line) for p in _SEPARATORS) \
                or _joined_attribution(lines, index) or _SIGNATURE.match(line):
            cut = index
            break
        if _OUTLOOK_HEADER.match(line) and any(_OUTLOOK_NEXT.match(following)
                                               for following in lines[index + 1:index + 4]):
            cut = index
            break
        if line.startswith(">") and index >= quoted_tail:
            cut = index
            break
    kept = [line for line in lines[:cut] if not line.startswith(">")]
    return "\n".join(kept).strip()
