"""The DATEV format "EXTF" Buchungsstapel as data: the header row's fields and the 125 columns of a
booking row (header version 700, format category 21, format version 13), in DATEV's order.

The names are DATEV's own, typographic quirks included ("Zusatzinformation- Inhalt 1"): the tax
advisor's import maps columns by position, and a reader compares the names."""
from __future__ import annotations

FORMAT_MARK = "EXTF"
HEADER_VERSION = 700
FORMAT_CATEGORY = 21
FORMAT_NAME = "Buchungsstapel"
FORMAT_VERSION = 13

HEADER_FIELDS: tuple[str, ...] = (  # the 31 fields of the first row
    "Kennzeichen", "Versionsnummer", "Formatkategorie", "Formatname", "Formatversion", "Erzeugt am",
    "Importiert", "Herkunft", "Exportiert von", "Importiert von", "Beraternummer", "Mandantennummer",
    "WJ-Beginn", "Sachkontenlänge", "Datum vom", "Datum bis", "Bezeichnung", "Diktatkürzel", "Buchungstyp",
    "Rechnungslegungszweck", "Festschreibung", "WKZ", "reserviert 23", "Derivatskennzeichen", "reserviert 25",
    "reserviert 26", "SKR", "Branchen-Lösungs-ID", "reserviert 29", "reserviert 30", "Anwendungsinformation",
)

COLUMNS: tuple[str, ...] = (
    "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs", "Basis-Umsatz",
    "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum", "Belegfeld 1",
    "Belegfeld 2", "Skonto", "Buchungstext", "Postensperre", "Diverse Adressnummer", "Geschäftspartnerbank",
    "Sachverhalt", "Zinssperre", "Beleglink",
    *(name for n in range(1, 9) for name in (f"Beleginfo - Art {n}", f"Beleginfo - Inhalt {n}")),
    "KOST1 - Kostenstelle", "KOST2 - Kostenstelle", "Kost-Menge", "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)", "Abw. Versteuerungsart", "Sachverhalt L+L", "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp", "BU 49 Hauptfunktionsnummer", "BU 49 Funktionsergänzung",
    *(name for n in range(1, 21) for name in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")),
    "Stück", "Gewicht", "Zahlweise", "Forderungsart", "Veranlagungsjahr", "Zugeordnete Fälligkeit", "Skontotyp",
    "Auftragsnummer", "Buchungstyp", "USt-Schlüssel (Anzahlungen)", "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)", "EU-Steuersatz (Anzahlungen)", "Erlöskonto (Anzahlungen)", "Herkunft-Kz",
    "Buchungs GUID", "KOST-Datum", "SEPA-Mandatsreferenz", "Skontosperre", "Gesellschaftername",
    "Beteiligtennummer", "Identifikationsnummer", "Zeichnernummer", "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt", "Kennzeichen SoBil-Buchung", "Festschreibung", "Leistungsdatum",
    "Datum Zuord. Steuerperiode", "Fälligkeit", "Generalumkehr (GU)", "Steuersatz", "Land", "Abrechnungsreferenz",
    "BVV-Position", "EU-Land u. UStID (Ursprung)", "EU-Steuersatz (Ursprung)", "Abw. Skontokonto",
)

# Columns written in double quotes (DATEV's text fields among those Kontor fills); the others are
# numbers, account numbers and dates, written bare.
TEXT_COLUMNS = frozenset({
    "Soll/Haben-Kennzeichen", "WKZ Umsatz", "BU-Schlüssel", "Belegfeld 1", "Belegfeld 2", "Buchungstext",
    "Beleglink", "EU-Land u. UStID (Bestimmung)", "SEPA-Mandatsreferenz", "Land",
})
MAX_LENGTH = {"Belegfeld 1": 36, "Belegfeld 2": 12, "Buchungstext": 60, "Beleglink": 210,
              "EU-Land u. UStID (Bestimmung)": 15, "SEPA-Mandatsreferenz": 35}
SHORTENED = frozenset({"Buchungstext"})  # free text: cut to its length; identifiers are refused when too long
