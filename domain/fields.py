"""The field types of what users and files send in: one vocabulary for the API's request bodies and
for imports, so a spreadsheet row is checked exactly as a form is."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

MAX_JSON_DEPTH = 32


def _storable(value: Any, path: str, depth: int = 0) -> None:
    """Refuse what a database cannot store as JSON text: NUL characters (PostgreSQL rejects them),
    lone surrogates (not UTF-8), numbers beyond 64 bits and absurd nesting."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"{path}: nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{path}: contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{path}: contains a lone surrogate (not valid UTF-8)") from None
    elif isinstance(value, bool):
        return
    elif isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValueError(f"{path}: number out of range (64-bit integers only)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key, f"{path}.{key!r}", depth + 1)
            _storable(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _storable(item, f"{path}[{index}]", depth + 1)


def _storable_object(value: dict[str, Any]) -> dict[str, Any]:
    _storable(value, "$")
    return value


def _storable_text(value: str) -> str:
    _storable(value, "text")
    return value


# Points in time sent by clients: with their offset (naive ones are refused), kept in UTC.
def _iso_text(value):
    if not isinstance(value, (str, datetime)):
        raise ValueError("a date and time as ISO 8601 text with its offset, e.g. 2030-01-02T09:00:00+01:00")
    return value


# ISO 8601 text only (no numbers read as Unix seconds), with its offset (naive ones are refused), in UTC.
UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_text),
                        AfterValidator(lambda value: value.astimezone(timezone.utc))]

# Free-form process data sent by clients: any JSON object the database can keep.
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_object)]
# Every text field of a request body (same rules, so SQLite and PostgreSQL answer alike).
Text = Annotated[str, AfterValidator(_storable_text)]

# customers and contacts
Status = Literal["lead", "active", "passive"]
Size = Literal["micro", "small", "medium", "large", "enterprise"]
TaxTreatment = Literal["domestic", "eu_reverse_charge", "export"]
Language = Literal["de", "en"]
Consent = Literal["unknown", "granted", "declined", "revoked"]
DocumentKind = Literal["offers", "invoices", "dunning"]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Percent = Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()/\-.]{3,40}$")]
# the catalog
Visibility = Literal["public", "prices_after_login", "internal"]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")]
Price = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]
TaxRate = Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=2)]


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped."""
    model_config = ConfigDict(extra="forbid")
