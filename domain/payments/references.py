"""Invoice and credit-note numbers as customers and their bank software write them in a transfer.

"INV-2026-0012" is the number; banking programs and people also write "INV 2026 12",
"INV-2026-12", "INV20260012", "Rechnung INV-2026-0012" or "inv-2026-0012". Each spelling is reduced to
one key (prefix, year, running number), so the lookup is a dictionary hit whatever the spelling."""
from __future__ import annotations

import re
from collections.abc import Iterable

DocumentKey = tuple[str, int, int]  # (prefix, year, running number): ("INV", 2026, 12)


def number_pattern(prefixes: Iterable[str]) -> re.Pattern[str]:
    """Finds prefix, four-digit year and running number, with any of - _ / . or spaces between them
    (or none). The running number ends at a non-digit, so "INV-2026-00125" is 125, not 12."""
    alternatives = "|".join(re.escape(prefix) for prefix in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])({alternatives})[\s\-_/.:#]*((?:19|20)\d\d)[\s\-_/.:#]*(\d{{1,9}})(?!\d)",
                      re.IGNORECASE)


def document_key(number: str, pattern: re.Pattern[str]) -> DocumentKey | None:
    """The key of a document number as Kontor writes it (None if it is not one)."""
    match = pattern.fullmatch(number.strip())
    return None if match is None else (match.group(1).upper(), int(match.group(2)), int(match.group(3)))


def keys_in_text(text: str, pattern: re.Pattern[str]) -> list[DocumentKey]:
    """The document keys a reference text names, in order of appearance, each once."""
    found: list[DocumentKey] = []
    for match in pattern.finditer(text):
        key = (match.group(1).upper(), int(match.group(2)), int(match.group(3)))
        if key not in found:
            found.append(key)
    return found
