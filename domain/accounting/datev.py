"""Handing the bookings of invoices, credit notes, payments and Skonto to the tax advisor as a DATEV
"EXTF" Buchungsstapel (CSV; datev_format.py holds the format as data, charts.py the accounts).

The file: a header row describing the batch, the column row, one row per booking; fields separated
by semicolons, rows by CRLF, text fields in double quotes with inner quotes doubled, amounts positive
with a decimal comma and no thousands separator, the side in the S/H mark, Windows-1252. A character
Windows-1252 cannot hold is replaced by "?" in the booking text (free text) and refused everywhere
else (numbers, VAT IDs, file names must arrive exactly). The same input gives the same bytes: the
creation time is part of the input."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain.accounting.charts import ZERO_RATED, AccountingError, ChartOfAccounts, RevenueKind
from domain.accounting.datev_format import (
    COLUMNS,
    FORMAT_CATEGORY,
    FORMAT_MARK,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_VERSION,
    MAX_LENGTH,
    SHORTENED,
    TEXT_COLUMNS,
)
from kernel.money import CENT

ENCODING = "cp1252"


@dataclass(frozen=True)
class BookingRow:
    """One booking of the batch: its date (Belegdatum carries only day and month) and its values by
    column name, unquoted; columns not named stay empty."""
    booking_date: date
    values: dict[str, str]


@dataclass(frozen=True)
class BatchHeader:
    """What the header row says about the batch. `origin` is the two-letter Herkunft mark; `locked`
    asks DATEV to fix the bookings on import (Festschreibung), which a tax advisor usually does himself."""
    consultant_number: int
    client_number: int
    fiscal_year_start: date
    date_from: date
    date_to: date
    created_at: datetime
    description: str = "Kontor Rechnungen"
    account_length: int = 4
    skr: str = "03"
    origin: str = "RE"
    exported_by: str = "Kontor"
    initials: str = ""
    locked: bool = False
    currency: str = "EUR"


@dataclass(frozen=True)
class RevenuePortion:
    """The gross of a document at one tax rate and of one kind (domestic 19 %, export 0 % …)."""
    kind: RevenueKind
    rate: Decimal
    gross: Decimal


@dataclass(frozen=True)
class DeductedDownPayment:
    """A down-payment invoice a final invoice deducts, with its gross per tax rate and kind."""
    number: str
    portions: tuple[RevenuePortion, ...]


@dataclass(frozen=True)
class InvoiceBooking:
    """An issued invoice. `vat_id` is the customer's VAT ID with its country prefix, needed for
    reverse charge and intra-community supplies; `pdf_name` the invoice PDF handed over alongside;
    `deducts` the down payments a final invoice deducts (released from the down-payment accounts)."""
    number: str
    issue_date: date
    customer_number: int
    customer_name: str
    portions: tuple[RevenuePortion, ...]
    vat_id: str | None = None
    pdf_name: str | None = None
    due_date: date | None = None
    service_date: date | None = None
    deducts: tuple[DeductedDownPayment, ...] = ()


@dataclass(frozen=True)
class DownPaymentBooking:
    """An issued down-payment invoice (Abschlagsrechnung): an open item of the customer, no revenue."""
    number: str
    issue_date: date
    customer_number: int
    customer_name: str
    portions: tuple[RevenuePortion, ...]
    pdf_name: str | None = None
    due_date: date | None = None


@dataclass(frozen=True)
class CreditNoteBooking:
    """A credit note correcting `invoice_number`: booked against revenue like the invoice, on the
    other side; Belegfeld 1 carries the invoice number (so the open item clears), Belegfeld 2 its own.
    One correcting a down-payment invoice (`of_down_payment`) takes back its open item, no revenue."""
    number: str
    issue_date: date
    invoice_number: str
    customer_number: int
    customer_name: str
    portions: tuple[RevenuePortion, ...]
    vat_id: str | None = None
    pdf_name: str | None = None
    of_down_payment: bool = False


@dataclass(frozen=True)
class PaymentBooking:
    """Money for an invoice on the bank account (or, `returned`, taken back by a returned direct debit).
    For a down-payment invoice, `down_payment` is the amount's share per tax rate and kind: it becomes
    a taxed down payment received (or, returned, stops being one)."""
    invoice_number: str
    booking_date: date
    customer_number: int
    amount: Decimal
    text: str = ""
    returned: bool = False
    mandate_reference: str | None = None
    down_payment: tuple[RevenuePortion, ...] = ()


@dataclass(frozen=True)
class CreditUseBooking:
    """The customer's credit (an earlier over-payment, `payment_text` its remittance) applied to an
    invoice on `booking_date`; for a down-payment invoice, `down_payment` is its share per tax rate."""
    invoice_number: str
    booking_date: date
    customer_number: int
    amount: Decimal
    payment_text: str = ""
    down_payment: tuple[RevenuePortion, ...] = ()


@dataclass(frozen=True)
class SkontoBooking:
    """Skonto granted on an invoice: its gross per tax rate ((rate, gross) pairs)."""
    invoice_number: str
    booking_date: date
    customer_number: int
    shares: tuple[tuple[Decimal, Decimal], ...]


# what the payments hand over: money received or returned, Skonto granted, credit applied
MoneyBooking = PaymentBooking | SkontoBooking | CreditUseBooking


def invoice_rows(invoice: InvoiceBooking, chart: ChartOfAccounts) -> list[BookingRow]:
    """One row per revenue portion: the customer's account debited, the revenue account credited;
    then each deducted down payment released: its down-payment account debited, the customer credited
    under the final invoice's number (its open item is what is left to pay; the down payment's number
    is in the text, Belegfeld 2 holds at most 12 characters)."""
    rows = [_revenue_row(invoice.number, "", invoice.issue_date, invoice.customer_number,
                         f"Rechnung {invoice.number} {invoice.customer_name}", portion, "S", chart,
                         invoice.vat_id, invoice.pdf_name, due=invoice.due_date, service=invoice.service_date)
            for portion in invoice.portions]
    debtor = chart.debtor_account(invoice.customer_number)
    for down_payment in invoice.deducts:
        for portion in down_payment.portions:
            rows.append(_row(portion.gross, "S", chart.down_payment_account(portion.kind, portion.rate), debtor,
                             invoice.issue_date, invoice.number, f"Anzahlung {down_payment.number} verrechnet"))
    return rows


def down_payment_rows(invoice: DownPaymentBooking, chart: ChartOfAccounts) -> list[BookingRow]:
    """One row per portion: the customer's account debited, the down-payment clearing account credited
    (no tax until the money comes)."""
    rows = []
    for portion in invoice.portions:
        row = _row(portion.gross, "S", chart.debtor_account(invoice.customer_number), chart.down_payment_clearing,
                   invoice.issue_date, invoice.number, f"Abschlagsrechnung {invoice.number} {invoice.customer_name}")
        if invoice.pdf_name:
            row.values["Beleglink"] = invoice.pdf_name
        if invoice.due_date:
            row.values["Fälligkeit"] = invoice.due_date.strftime("%d%m%Y")
        rows.append(row)
    return rows


def credit_note_rows(note: CreditNoteBooking, chart: ChartOfAccounts) -> list[BookingRow]:
    text = f"Gutschrift {note.number} zu {note.invoice_number} {note.customer_name}"
    if note.of_down_payment:
        rows = [_row(portion.gross, "H", chart.debtor_account(note.customer_number), chart.down_payment_clearing,
                     note.issue_date, note.invoice_number, text) for portion in note.portions]
        for row in rows:
            row.values["Belegfeld 2"] = note.number
            if note.pdf_name:
                row.values["Beleglink"] = note.pdf_name
        return rows
    return [_revenue_row(note.invoice_number, note.number, note.issue_date, note.customer_number, text, portion, "H",
                         chart, note.vat_id, note.pdf_name)
            for portion in note.portions]


def payment_rows(payment: PaymentBooking, chart: ChartOfAccounts) -> list[BookingRow]:
    """Bank debited, customer credited; a returned debit the other way round."""
    text = payment.text or (f"Rücklastschrift {payment.invoice_number}" if payment.returned
                            else f"Zahlung {payment.invoice_number}")
    row = _row(payment.amount, "H" if payment.returned else "S", chart.bank,
               chart.debtor_account(payment.customer_number), payment.booking_date, payment.invoice_number, text)
    if payment.mandate_reference:
        row.values["SEPA-Mandatsreferenz"] = payment.mandate_reference
    rows = [row]
    for share in payment.down_payment:  # the clearing account debited, the taxed down payment credited
        rows.append(_row(share.gross, "H" if payment.returned else "S", chart.down_payment_clearing,
                         chart.down_payment_account(share.kind, share.rate), payment.booking_date,
                         payment.invoice_number, f"Anzahlung {payment.invoice_number} erhalten"))
    return rows


def credit_use_rows(use: CreditUseBooking, chart: ChartOfAccounts) -> list[BookingRow]:
    """Through the transit account: the customer credited under the invoice's number, and debited
    against the credit (no invoice number, as the over-payment was booked); a down payment becomes a
    taxed down payment received, as when money comes for it."""
    debtor = chart.debtor_account(use.customer_number)
    if not chart.transit:
        raise AccountingError(f"{chart.name} has no transit account for a customer's credit")
    rows = [_row(use.amount, "S", chart.transit, debtor, use.booking_date, use.invoice_number,
                 f"Guthaben verrechnet mit {use.invoice_number}"),
            _row(use.amount, "S", debtor, chart.transit, use.booking_date, "",
                 f"Guthaben für {use.invoice_number} {use.payment_text}".strip())]
    for share in use.down_payment:
        rows.append(_row(share.gross, "S", chart.down_payment_clearing,
                         chart.down_payment_account(share.kind, share.rate), use.booking_date, use.invoice_number,
                         f"Anzahlung {use.invoice_number} erhalten"))
    return rows


def skonto_rows(skonto: SkontoBooking, chart: ChartOfAccounts) -> list[BookingRow]:
    """Per tax rate: Skonto granted debited (DATEV takes the output tax out), the customer credited."""
    return [_row(gross, "S", chart.skonto_account(rate), chart.debtor_account(skonto.customer_number),
                 skonto.booking_date, skonto.invoice_number, f"Skonto {skonto.invoice_number}")
            for rate, gross in skonto.shares if gross]


def _revenue_row(field_1: str, field_2: str, on: date, customer: int, text: str, portion: RevenuePortion,
                 side: str, chart: ChartOfAccounts, vat_id: str | None, pdf: str | None, *,
                 due: date | None = None, service: date | None = None) -> BookingRow:
    if portion.kind in ZERO_RATED and not vat_id and portion.kind != "export":
        raise AccountingError(f"{field_2 or field_1}: {portion.kind} needs the customer's VAT ID")
    row = _row(portion.gross, side, chart.debtor_account(customer), chart.revenue_account(portion.kind, portion.rate),
               on, field_1, text)
    values = row.values
    values["BU-Schlüssel"] = chart.tax_key(portion.kind, portion.rate)
    values["Belegfeld 2"] = field_2
    if portion.kind in ZERO_RATED and vat_id:
        values["EU-Land u. UStID (Bestimmung)"] = vat_id.replace(" ", "").upper()
    if pdf:
        values["Beleglink"] = pdf
    if due:
        values["Fälligkeit"] = due.strftime("%d%m%Y")
    if service:
        values["Leistungsdatum"] = service.strftime("%d%m%Y")
    return row


def _row(amount: Decimal, side: str, account: str, contra: str, on: date, field_1: str, text: str) -> BookingRow:
    if amount <= 0 or amount != amount.quantize(CENT):
        raise AccountingError(f"{field_1}: amount {amount} is not a positive amount in cents")
    return BookingRow(on, {
        "Umsatz (ohne Soll/Haben-Kz)": format(amount.quantize(CENT), "f").replace(".", ","),
        "Soll/Haben-Kennzeichen": side,
        "WKZ Umsatz": "EUR", "Konto": account, "Gegenkonto (ohne BU-Schlüssel)": contra,
        "Belegdatum": on.strftime("%d%m"), "Belegfeld 1": field_1, "Buchungstext": text})


def write_buchungsstapel(header: BatchHeader, rows: Iterable[BookingRow]) -> bytes:
    """The whole EXTF file as bytes (Windows-1252, CRLF). Every booking must lie within the batch's
    period, which lies within one fiscal year (DATEV imports a batch into one year)."""
    lines = [";".join(_header_values(header)), ";".join(COLUMNS)]
    for number, row in enumerate(rows, start=1):
        if not header.date_from <= row.booking_date <= header.date_to:
            raise AccountingError(f"booking {number} ({row.values['Belegfeld 1']}) on {row.booking_date} lies "
                                  f"outside the batch {header.date_from}–{header.date_to}")
        lines.append(";".join(_field(column, row.values.get(column, ""), number) for column in COLUMNS))
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING)


def _header_values(header: BatchHeader) -> list[str]:
    year_end = header.fiscal_year_start.replace(year=header.fiscal_year_start.year + 1)
    if not header.fiscal_year_start <= header.date_from <= header.date_to < year_end:
        raise AccountingError("the batch's period must lie within the fiscal year that starts on "
                              f"{header.fiscal_year_start}")
    stamp = header.created_at.strftime("%Y%m%d%H%M%S") + f"{header.created_at.microsecond // 1000:03d}"
    return [_quoted(FORMAT_MARK), str(HEADER_VERSION), str(FORMAT_CATEGORY), _quoted(FORMAT_NAME),
            str(FORMAT_VERSION), stamp, "", _quoted(header.origin[:2]), _quoted(header.exported_by[:25]), "",
            str(header.consultant_number), str(header.client_number), header.fiscal_year_start.strftime("%Y%m%d"),
            str(header.account_length), header.date_from.strftime("%Y%m%d"), header.date_to.strftime("%Y%m%d"),
            _quoted(header.description[:30]), _quoted(header.initials[:2]), "1", "0", "1" if header.locked else "0",
            _quoted(header.currency), "", "", "", "", _quoted(header.skr), "", "", "", ""]


def _field(column: str, value: str, number: int) -> str:
    if not value:
        return ""
    value = " ".join(value.split()) if column in TEXT_COLUMNS else value
    limit = MAX_LENGTH.get(column)
    if limit and len(value) > limit:
        if column not in SHORTENED:
            raise AccountingError(f"booking {number}: {column} {value!r} is longer than {limit} characters")
        value = value[:limit]
    try:
        value.encode(ENCODING)
    except UnicodeEncodeError:
        if column not in SHORTENED:
            raise AccountingError(f"booking {number}: {column} {value!r} has characters Windows-1252 "
                                  "cannot hold") from None
        value = value.encode(ENCODING, errors="replace").decode(ENCODING)
    return _quoted(value) if column in TEXT_COLUMNS else value


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'
