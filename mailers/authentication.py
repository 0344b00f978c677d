"""What the receiving mail servers found about a message's sender (RFC 8601 Authentication-Results:
DMARC, DKIM, SPF). Only failures are read: a header can be added by anyone along the way, so a
"pass" proves nothing, while a "fail" is reason enough never to trust the message."""
from __future__ import annotations

import re

CHECKED_METHODS = ("dmarc", "dkim", "spf")
_METHOD_RESULT = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*(?:/\s*[0-9]+\s*)?=\s*([A-Za-z0-9_-]+)")


def _without_comments_and_quotes(value: str) -> str:
    """The header value with (comments) removed and "quoted strings" emptied, so that a semicolon
    inside either does not split a result."""
    out, depth, quoted, escaped = [], 0, False, False
    for char in value:
        if escaped:
            escaped = False
            continue
        if char == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            if char == '"':
                quoted = False
                out.append('"')
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth:
            continue
        elif char == '"':
            quoted = True
            out.append('"')
        else:
            out.append(char)
    return "".join(out)


def failed_checks(headers: list[str]) -> str | None:
    """The failed checks of the given Authentication-Results values, e.g. "dmarc=fail, spf=fail
    (mx.example.com)"; None when none failed (or there were none)."""
    failures = []
    for header in headers:
        parts = _without_comments_and_quotes(header).split(";")
        server = parts[0].split()[0] if parts[0].split() else "?"
        for part in parts[1:]:
            found = _METHOD_RESULT.match(part)
            if found is None:
                continue
            method, result = found.group(1).lower(), found.group(2).lower()
            if method in CHECKED_METHODS and result == "fail":
                failures.append(f"{method}={result} ({server})")
    return ", ".join(dict.fromkeys(failures))[:300] or None
