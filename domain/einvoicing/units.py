"""Kontor's units are free text on the product ("piece", "Stunde", "Pauschale" …); an e-invoice needs a
code of UN/ECE Recommendation 20 (BT-130). This maps the usual German and English spellings to their
codes. A unit it does not know becomes C62 ("one", i.e. piece) and its original text stays visible on
the invoice line (as the line note, BT-127), so that nothing the customer agreed on is lost."""
from __future__ import annotations

from dataclasses import dataclass

FALLBACK_CODE = "C62"

_CODES: dict[str, tuple[str, ...]] = {
    "H87": ("piece", "pieces", "pc", "pcs", "stück", "stueck", "stk", "stk.", "st", "st."),
    # a licence is a count of rights, not a physical piece: Rec. 20 has no licence unit, C62 is usual
    "C62": ("unit", "units", "one", "einheit", "einheiten", "x", "mal", "licence", "licences", "license",
            "licenses", "lizenz", "lizenzen", "user", "users", "nutzer", "seat", "seats", "arbeitsplatz"),
    "HUR": ("hour", "hours", "h", "hr", "hrs", "std", "std.", "stunde", "stunden"),
    "SEC": ("second", "seconds", "s", "sek", "sekunde", "sekunden"),
    "MIN": ("minute", "minutes", "min", "minute(n)", "minuten"),
    "DAY": ("day", "days", "d", "tag", "tage", "personentag", "personentage", "pt", "manday", "man-day"),
    "WEE": ("week", "weeks", "wk", "woche", "wochen"),
    "MON": ("month", "months", "mo", "monat", "monate", "mon"),
    "QAN": ("quarter", "quarters", "quartal", "quartale"),
    "ANN": ("year", "years", "yr", "jahr", "jahre", "a"),
    "LS": ("flat", "flat rate", "flat fee", "lump sum", "lumpsum", "pauschale", "pauschal", "psch", "psch."),
    "E48": ("service", "service unit", "leistung", "dienstleistung"),
    "KMT": ("km", "kilometre", "kilometres", "kilometer"),
    "MTR": ("m", "metre", "metres", "meter"),
    "CMT": ("cm", "centimetre", "centimetres", "zentimeter"),
    "MMT": ("mm", "millimetre", "millimetres", "millimeter"),
    "MTK": ("m2", "m²", "qm", "square metre", "square metres", "quadratmeter"),
    "MTQ": ("m3", "m³", "cbm", "cubic metre", "cubic metres", "kubikmeter"),
    "KGM": ("kg", "kilogram", "kilograms", "kilogramm"),
    "GRM": ("g", "gram", "grams", "gramm"),
    "TNE": ("t", "tonne", "tonnes", "ton", "tonnen"),
    "LTR": ("l", "litre", "litres", "liter"),
    "SET": ("set", "sets", "satz"),
    "PR": ("pair", "pairs", "paar"),
    "XPK": ("package", "packages", "pack", "packung", "paket", "pkg"),
    "XBX": ("box", "boxes", "karton", "kartons"),
    "XPX": ("pallet", "pallets", "palette", "paletten"),
    "KWH": ("kwh", "kilowatt hour", "kilowattstunde", "kilowattstunden"),
    "GB": ("gb", "gigabyte", "gigabytes"),
    "TB": ("tb", "terabyte", "terabytes"),
}

_BY_TEXT: dict[str, str] = {text: code for code, texts in _CODES.items() for text in texts}
KNOWN_CODES = frozenset(_CODES)


@dataclass(frozen=True)
class UnitCode:
    """The Rec. 20 code of a unit, and the note that keeps an unknown unit visible (None if known)."""
    code: str
    original: str
    note: str | None = None

    @property
    def known(self) -> bool:
        return self.note is None


def unit_code_for(unit: str | None) -> UnitCode:
    """The code of Kontor's unit text: a known spelling (any case, surrounding blanks ignored), a
    Rec. 20 code given as is (e.g. "HUR"), or else C62 with a note "Einheit / unit: <original>"."""
    original = (unit or "").strip()
    key = " ".join(original.lower().split())
    if key in _BY_TEXT:
        return UnitCode(_BY_TEXT[key], original)
    if original.upper() in KNOWN_CODES:
        return UnitCode(original.upper(), original)
    if not original:
        return UnitCode(FALLBACK_CODE, original)
    return UnitCode(FALLBACK_CODE, original, note=f"Einheit / unit: {original}")
