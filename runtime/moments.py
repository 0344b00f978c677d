"""Points in time from BPMN expressions: an ISO 8601 duration (counted from now) or a date/time,
always as an aware UTC datetime. Pure functions; bad values raise ProcessError naming the value."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

from dateutil.relativedelta import relativedelta

from kernel.errors import ProcessError

MAX_YEARS = 1000  # far beyond any business deadline, small enough to compute instantly
_DURATION = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?", re.IGNORECASE)


def to_utc(value: datetime) -> datetime:
    """Aware datetimes are converted to UTC; naive ones are taken as UTC (never the server's zone)."""
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def parse_duration(text: str) -> relativedelta:
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groupdict().values()) or text.upper().endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    parts = {name: value for name, value in match.groupdict().items() if value is not None}
    seconds = float(parts.pop("seconds", "0").replace(",", "."))
    numbers = {name: int(value) for name, value in parts.items()}
    total_years = numbers.get("years", 0) + numbers.get("months", 0) / 12 + (
        numbers.get("weeks", 0) * 7 + numbers.get("days", 0)) / 366 + (
        numbers.get("hours", 0) / 24 + numbers.get("minutes", 0) / 1440 + seconds / 86400) / 366
    if total_years > MAX_YEARS:
        raise ValueError(f"duration {text!r} exceeds {MAX_YEARS} years")
    return relativedelta(**numbers, microseconds=round(seconds * 1_000_000))


def resolve_moment(value: Any, now: datetime | None = None) -> datetime | None:
    """An ISO 8601 duration (from now) or date/time, a datetime or a date, as an aware UTC datetime."""
    now = now or datetime.now(timezone.utc)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    text = str(value).strip()
    try:
        if text[:1] in ("P", "p"):
            return now + parse_duration(text)
        return to_utc(datetime.fromisoformat(text))
    except (ValueError, TypeError, OverflowError) as exc:
        raise ProcessError(f"{text[:80]!r} is neither an ISO 8601 date/time nor a duration") from exc


__all__ = ["resolve_moment", "parse_duration", "to_utc"]
