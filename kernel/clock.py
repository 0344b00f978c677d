"""Time inside Kontor is timezone-aware UTC; local time only at the edges."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
