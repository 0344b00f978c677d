"""The field types of what users and files send in: one vocabulary for the API's request bodies and
for imports, so a spreadsheet row is checked exactly as a form is."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    WrapValidator,
    model_validator,
)
from pydantic import Strict as StrictMode
from pydantic_core import PydanticCustomError

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


# Points in time and days sent by clients: RFC 3339 text only (no numbers read as Unix seconds, which
# pydantic would do, also for digits in text); a point in time with its offset, kept in UTC.
RFC3339_DATETIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?"
                    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def text_matching(pattern: str, expected: str, *python_types: type) -> WrapValidator:
    """After pydantic's own parsing (its messages for what is no value of the type or out of range):
    the value must have come as text matching `pattern` (or, from Python callers, as one of
    `python_types`); anything else is refused naming what is `expected`."""
    compiled = re.compile(pattern)

    def check(value, parse):
        parsed = parse(value)
        if isinstance(value, python_types) or (isinstance(value, str) and compiled.match(value)):
            return parsed
        raise ValueError(f"expected {expected}")
    return WrapValidator(check)


def matching(pattern: str, message: str) -> tuple[AfterValidator, Any]:
    """Text that must match `pattern` (which the JSON Schema carries); a mismatch is answered with
    `message`, in words, never with the pattern itself."""
    # `$` as JSON Schema and pydantic mean it: the end of the text (Python's also admits a final newline)
    compiled = re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise PydanticCustomError("string_pattern_mismatch", message)
        return value
    return AfterValidator(check), Field(json_schema_extra={"pattern": pattern})


UtcDatetime = Annotated[
    AwareDatetime, StrictMode(False),
    text_matching(RFC3339_DATETIME, "a date and time as RFC 3339 text with its offset, e.g. "
                                      "2030-01-02T09:00:00+01:00", datetime),
    AfterValidator(lambda value: value.astimezone(timezone.utc)),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": RFC3339_DATETIME})]
Day = Annotated[date, StrictMode(False), text_matching(ISO_DATE, "a day as YYYY-MM-DD", date),
                WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DATE})]


def decimal_text(pattern: str, expected: str):
    """An exact decimal, sent as text (JSON numbers are binary fractions); the pattern says what the
    field's digits and range allow."""
    return (StrictMode(False), text_matching(pattern, expected, Decimal),
            WithJsonSchema({"type": "string", "pattern": pattern}))


# Free-form process data sent by clients: any JSON object the database can keep. Its schema (a
# component of the API's document, JSON_VALUE_SCHEMA) says so, but for the nesting limit.
NO_NUL = "^[^\\x00]*$"
_JSON_VALUE_REF = {"$ref": "#/components/schemas/JsonValue"}
_JSON_OBJECT_SCHEMA = {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": _JSON_VALUE_REF}
JSON_VALUE_SCHEMA = {
    "description": f"any JSON value but text with NUL characters and integers beyond 64 bits, nested up to "
                   f"{MAX_JSON_DEPTH} levels",
    "anyOf": [{"type": "string", "pattern": NO_NUL}, {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
              {"type": "number", "not": {"type": "integer"}}, {"type": "boolean"}, {"type": "null"},
              {"type": "array", "items": _JSON_VALUE_REF}, _JSON_OBJECT_SCHEMA]}
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_object), WithJsonSchema(_JSON_OBJECT_SCHEMA)]
# Every text field of a request body (same rules, so SQLite and PostgreSQL answer alike).
Text = Annotated[str, AfterValidator(_storable_text), Field(json_schema_extra={"pattern": NO_NUL})]



def bounded_text(min_length: int, max_length: int) -> Any:
    """Text as `Text`, of `min_length` to `max_length` characters (checked first, named in characters)."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length),
                     AfterValidator(_storable_text), Field(json_schema_extra={"pattern": NO_NUL})]


# customers and contacts
Status = Literal["lead", "active", "passive"]
Size = Literal["micro", "small", "medium", "large", "enterprise"]
TaxTreatment = Literal["domestic", "eu_reverse_charge", "export"]
Language = Literal["de", "en"]
Consent = Literal["unknown", "granted", "declined", "revoked"]
DocumentKind = Literal["offers", "invoices", "dunning"]
Country = Annotated[str, *matching(r"^[A-Z]{2}$", "must be a two-letter ISO 3166 country code in "
                                                                 "capitals, such as DE")]
Currency = Annotated[str, *matching(r"^[A-Z]{3}$", "must be a three-letter ISO 4217 currency code "
                                                                  "in capitals, such as EUR")]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2),
                   *decimal_text(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$", "an amount as text, e.g. 1234.50")]
Percent = Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2),
                    *decimal_text(r"^(100(\.00?)?|[1-9][0-9]?(\.[0-9]{1,2})?|0\.([1-9][0-9]?|0[1-9]))$",
                                  "a percentage above 0 up to 100 as text, e.g. 2.5")]
# 0 to 100 with two decimals, as text: tax rates, discounts
Rate = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2),
                 *decimal_text(r"^(100(\.00?)?|(0|[1-9][0-9]?)(\.[0-9]{1,2})?)$", "0 to 100 as text, e.g. 19")]
Email = Annotated[str, StringConstraints(max_length=254),
                  *matching(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "not a valid e-mail address, e.g. name@example.com")]
Phone = Annotated[str, *matching(r"^\+?[0-9 ()/\-.]{3,40}$", "not a valid phone number: 3 to 40 digits, spaces "
                                                              "and + ( ) / - .")]
# the catalog
Visibility = Literal["public", "prices_after_login", "internal"]
Sku = Annotated[str, *matching(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$", "an article number: a letter or digit, then "
                                                                      "up to 39 letters, digits or . _ / -")]
Price = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4),
                  *decimal_text(r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,4})?$", "a price as text, e.g. 12.3456")]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4),
                     *decimal_text(r"^([1-9][0-9]{0,9}(\.[0-9]{1,4})?|0\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?"
                                   r"|000[1-9]))$", "a quantity above 0 as text, e.g. 2.5")]
TaxRate = Rate
MinQuantity = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4),
                        *decimal_text(r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,4})?$", "a quantity as text, e.g. 10")]


def _is_integer(annotation) -> bool:
    """int, also inside Annotated[...] or a union with None (bool is no integer here)."""
    if annotation is int:
        return True
    return get_origin(annotation) in (Annotated, Union, UnionType) and any(map(_is_integer, get_args(annotation)))


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped; a value of another JSON type is refused, not
    converted (`false` is no number, `0` no boolean, `"5"` no integer). Spreadsheet imports, whose
    cells are text, validate with strict=False."""
    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _integral_numbers_are_integers(cls, data):
        """JSON counts 718.0 as the integer 718 (so does JSON Schema): taken as such."""
        if isinstance(data, dict):
            fields = cls.model_fields
            return {name: int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**63
                    and name in fields and _is_integer(fields[name].annotation) else value
                    for name, value in data.items()}
        return data
