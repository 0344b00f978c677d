"""Customers, contacts and products from a spreadsheet (.xlsx or .csv) and back, in the same columns.

Each row is checked with the API's input model and created by the domain's commands in a savepoint
of its own, so a row's errors are reported with its row number as the sheet shows it (the header is
row 1). A dry run, and an import with any error, leaves nothing behind, not even a number taken."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.catalog.commands import create_product, require_catalog_maintainer
from domain.catalog.inputs import ProductIn  # the same rules as the API's forms
from domain.catalog.models import Product
from domain.customers.access import require_creator
from domain.customers.commands import add_contact, create_customer
from domain.customers.duplicates import NameIndex, find_duplicates
from domain.customers.inputs import ContactIn, CustomerIn
from domain.customers.models import Address, Contact, Customer
from kernel.errors import Forbidden, KontorError, ValidationFailed
from kernel.principal import STAFF_ROLES, Principal

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
ZIP_MAGIC = b"PK\x03\x04"
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8"}
# Per kind: field -> the headers read for it (case and spacing ignored); the export writes the first.
COLUMNS = {
    "customers": {"name": ("Name",), "country": ("Land", "Country"),
                  "vat_id": ("USt-IdNr", "USt-IdNr.", "USt-ID", "VAT ID"),
                  "tax_treatment": ("Steuerbehandlung", "Tax treatment"), "status": ("Status",),
                  "industry": ("Branche", "Industry"), "payment_days": ("Zahlungsziel", "Payment days"),
                  "currency": ("Währung", "Currency"), "credit_limit": ("Kreditlimit", "Credit limit"),
                  "street": ("Straße", "Street"), "postal_code": ("PLZ", "Postal code"), "city": ("Ort", "City")},
    "contacts": {"customer_number": ("Kundennummer", "Customer number"), "salutation": ("Anrede", "Salutation"),
                 "first_name": ("Vorname", "First name"), "last_name": ("Nachname", "Last name"),
                 "role": ("Rolle", "Role"), "email": ("E-Mail", "Email"), "phone": ("Telefon", "Phone"),
                 "mobile": ("Mobil", "Mobile"), "language": ("Sprache", "Language")},
    "products": {"sku": ("Artikelnummer", "SKU"), "name_de": ("Bezeichnung", "Name (de)"),
                 "name_en": ("Name (en)", "Bezeichnung (en)"), "unit": ("Einheit", "Unit"),
                 "tax_rate": ("Steuersatz", "Tax rate"), "cost": ("Kosten", "Cost"),
                 "visibility": ("Sichtbarkeit", "Visibility")},
}
REQUIRED = {"customers": ("name",), "contacts": ("customer_number", "last_name"), "products": ("sku", "name_de")}
NUMBERS = {"payment_days", "credit_limit", "tax_rate", "cost"}
UPPER = {"country", "currency", "vat_id"}
LOWER = {"status", "tax_treatment", "language", "visibility"}
ADDRESS_FIELDS = ("street", "postal_code", "city")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula


NAMES = "names"  # key in `seen` of the customers' name index (ids and SKUs are the other keys)


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    rows_total: int = 0
    rows_ok: int = 0
    committed: bool = False
    errors: list[dict] = field(default_factory=list)  # {"row", "field", "message"}
    duplicates: list[dict] = field(default_factory=list)  # {"row", "customer_number", "other_row", "name", …}


# ----------------------------------------------------------------- reading a file
def file_error(filename: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{filename}: {message}", [{"field": "file", "message": message}])


def read_rows(kind: str, filename: str, content: bytes) -> list[tuple[int, dict, list[dict]]]:
    """(row number, {field: value}, parse errors) of every non-empty data row."""
    if len(content) > MAX_BYTES:
        raise file_error(filename, f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    header, rows = _read_table(filename, content)
    names = {" ".join(a.split()).casefold(): name for name, aliases in COLUMNS[kind].items() for a in aliases}
    fields = [names.get(" ".join(str(h).split()).casefold()) if h is not None else None for h in header]
    unknown = [str(h) for h, f in zip(header, fields, strict=True) if h is not None and f is None]
    if unknown:
        raise file_error(filename, f"unknown columns {', '.join(unknown)}; known: "
                                   + ", ".join(a[0] for a in COLUMNS[kind].values()))
    if len(set(f for f in fields if f)) < len([f for f in fields if f]):
        raise file_error(filename, "a column appears twice")
    missing = [COLUMNS[kind][f][0] for f in REQUIRED[kind] if f not in fields]
    if missing:
        raise file_error(filename, f"the column {', '.join(missing)} is missing")
    if not rows:
        raise file_error(filename, "no data rows below the header")
    result = []
    for number, cells in rows:
        values, errors = {}, []
        for name, cell in zip(fields, cells, strict=False):  # a row may be shorter or longer than its header
            cell = _clean(cell)
            if name is None or cell is None:
                continue
            try:
                values[name] = _value(name, cell)
            except ValueError as exc:
                errors.append({"row": number, "field": name, "message": str(exc)})
        result.append((number, values, errors))
    return result


def _read_table(filename: str, content: bytes) -> tuple[list, list[tuple[int, tuple]]]:
    name = filename.lower()
    if name.endswith(".xlsx") and content.startswith(ZIP_MAGIC):
        lines = _xlsx_lines(filename, content)
    elif name.endswith(".csv") and not content.startswith(ZIP_MAGIC):
        lines = _csv_lines(filename, content)
    else:
        raise file_error(filename, "not an .xlsx or .csv file")
    header, rows = None, []
    for number, cells in enumerate(lines, start=1):
        if header is None:
            header = [None if _clean(c) is None else _text(_clean(c)) for c in cells]
            while header and header[-1] is None:
                header.pop()
        elif any(_clean(c) is not None for c in cells):
            if len(rows) == MAX_ROWS:
                raise file_error(filename, f"more than {MAX_ROWS} rows")
            rows.append((number, tuple(cells)))
    if not header:
        raise file_error(filename, "empty: no header row")
    return header, rows


def _xlsx_lines(filename: str, content: bytes):
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            yield from book.worksheets[0].iter_rows(values_only=True)
        finally:
            book.close()
    except Exception as exc:  # openpyxl fails with zip, XML and key errors alike on a broken workbook
        raise file_error(filename, f"not a readable .xlsx workbook ({type(exc).__name__})") from exc


def _csv_lines(filename: str, content: bytes):
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")  # what Excel on Windows saves as "CSV"
        except UnicodeDecodeError:
            raise file_error(filename, "the text is neither UTF-8 nor Windows-1252") from None
    first = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count) if any(d in first for d in ";,\t") else ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise file_error(filename, f"not readable as CSV: {exc}") from None


def _clean(cell):
    if isinstance(cell, str):
        cell = cell.strip()
        if cell[:1] == "'" and cell[1:2] in FORMULA_START:  # the export's guard against formulas
            cell = cell[1:]
        return cell or None
    return cell


def _value(name: str, cell):
    if name in NUMBERS:
        number = parse_number(cell)
        return int(number) if name == "payment_days" and number == number.to_integral_value() else number
    text = _text(cell)
    return text.upper() if name in UPPER else text.lower() if name in LOWER else text


def _text(cell) -> str:
    if isinstance(cell, bool):
        return str(cell).lower()
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else str(Decimal(str(cell)))
    if isinstance(cell, (datetime, date)):
        return cell.isoformat()
    return str(cell)


def parse_number(cell) -> Decimal:
    """A number cell, or text as "1.234,56" (German), "1,234.56" or "1234.56": exactly, never via float text."""
    if isinstance(cell, bool) or isinstance(cell, (datetime, date)):
        raise ValueError(f"{cell!r} is not a number")
    if isinstance(cell, (int, Decimal)):
        return Decimal(cell)
    if isinstance(cell, float):
        return Decimal(str(cell))
    text = re.sub(r"[\s\u00a0\u202f€]", "", str(cell))
    if "," in text and "." in text:
        point = "," if text.rfind(",") > text.rfind(".") else "."
    else:
        point = "," if text.count(",") == 1 else "." if text.count(".") == 1 else None
    whole, _, fraction = text.partition(point) if point else (text, "", "")
    group = re.escape({",": ".", ".": ","}[point] if point else ("," if "," in text else "."))
    if not re.fullmatch(rf"[+-]?(\d{{1,3}}({group}\d{{3}})+|\d+)", whole) or (point and not fraction.isdigit()):
        raise ValueError(f"{cell!r} is not a number (write 1.234,56 or 1234.56)")
    return Decimal(re.sub(group, "", whole) + ("." + fraction if point else ""))


# ----------------------------------------------------------------- importing
def import_table(session: Session, who: Principal, kind: str, filename: str, content: bytes, dry_run: bool,
                 home_country: str) -> ImportReport:
    if kind == "products":
        require_catalog_maintainer(who)
    else:
        require_creator(who)
    rows = read_rows(kind, filename, content)
    report = ImportReport(kind=kind, dry_run=dry_run, rows_total=len(rows))
    seen: dict = {}  # customer id or SKU -> the row of this file that created it
    outer = session.begin_nested()
    try:
        for row, values, problems in rows:
            errors = _unique(_import_row(session, who, kind, row, values, problems, home_country, seen, report))
            report.errors += errors
            report.rows_ok += not errors
    except BaseException:
        outer.rollback()
        raise
    if dry_run or report.errors:
        outer.rollback()
    else:
        outer.commit()
        report.committed = True
    if report.errors and not dry_run:
        bad = len({e["row"] for e in report.errors})
        raise ValidationFailed(f"{filename}: {bad} of {len(rows)} rows have errors; nothing was imported",
                               [{"field": f"row {e['row']}: {e['field']}", "message": e["message"]}
                                for e in report.errors], rows_total=len(rows), rows_with_errors=bad)
    return report


def _import_row(session: Session, who: Principal, kind: str, row: int, values: dict, problems: list[dict],
                home_country: str, seen: dict, report: ImportReport) -> list[dict]:
    """The row's errors; none if it was created (in a savepoint of its own)."""
    body = dict(values)
    number = body.pop("customer_number", None) if kind == "contacts" else None
    if kind == "contacts" and number is None:
        problems = problems + [{"row": row, "field": "customer_number", "message": "Field required"}]
    if kind == "customers" and any(f in body for f in ADDRESS_FIELDS):
        country = body.get("country") if re.fullmatch(r"[A-Z]{2}", body.get("country") or "") else home_country
        body["main_address"] = {**{f: body.pop(f) for f in ADDRESS_FIELDS if f in body}, "country": country}
    model = {"customers": CustomerIn, "contacts": ContactIn, "products": ProductIn}[kind]
    try:
        data = model.model_validate(body, strict=False).model_dump()  # cells are text: read as a form's fields
    except ValidationError as exc:
        return problems + [{"row": row, "field": ".".join(str(p) for p in e["loc"]).removeprefix("main_address."),
                            "message": e["msg"]} for e in exc.errors()]
    if problems:
        return problems
    key = {"customers": "name", "contacts": "customer_number", "products": "sku"}[kind]
    try:
        with session.begin_nested():
            if kind == "customers":
                _import_customer(session, who, row, data, home_country, seen, report)
            elif kind == "contacts":
                _import_contact(session, who, number, data)
            else:
                _import_product(session, who, row, data, seen)
    except KontorError as exc:
        return [{"row": row, "field": d.get("field") or key, "message": d.get("message") or exc.message}
                for d in exc.details] or [{"row": row, "field": key, "message": exc.message}]
    return []


def _import_customer(session: Session, who: Principal, row: int, data: dict, home_country: str, seen: dict,
                     report: ImportReport) -> None:
    customer = create_customer(session, who, data, home_country)
    names = seen.setdefault(NAMES, NameIndex.load(session))  # read once per file, grown row by row
    for candidate in find_duplicates(session, customer.name, customer.vat_id, exclude_id=customer.id, names=names):
        other_row = seen.get(candidate.customer.id)  # an earlier row of this file, or a stored customer
        report.duplicates.append({"row": row, "customer_number": None if other_row else candidate.customer.number,
                                  "other_row": other_row, "name": candidate.customer.name,
                                  "score": candidate.score, "reasons": candidate.reasons})
    seen[customer.id] = row
    names.add(customer)


def _import_contact(session: Session, who: Principal, number: str, data: dict) -> None:
    customer_id = session.scalar(select(Customer.id).where(Customer.number == number))
    if customer_id is None:
        raise ValidationFailed("unknown customer", [{"field": "customer_number", "message": f"no customer {number}"}])
    add_contact(session, who, customer_id, data)


def _import_product(session: Session, who: Principal, row: int, data: dict, seen: dict) -> None:
    if data["sku"] in seen:
        raise ValidationFailed("SKU twice", [{"field": "sku", "message": f"{data['sku']!r} is in row "
                                                                         f"{seen[data['sku']]} already"}])
    create_product(session, who, data)
    seen[data["sku"]] = row


def _unique(errors: list[dict]) -> list[dict]:
    return [e for i, e in enumerate(errors) if e not in errors[:i]]


# ----------------------------------------------------------------- exporting
def export_table(session: Session, who: Principal, kind: str, fmt: str) -> tuple[str, str, bytes]:
    """(file name, media type, content) of every customer (not merged), contact or product."""
    if who.is_portal or not who.has_any(*STAFF_ROLES):
        raise Forbidden("exports need a staff role")
    records = {"customers": _customer_records, "contacts": _contact_records, "products": _product_records}[kind]
    rows = [[record.get(name) for name in COLUMNS[kind]] for record in records(session)]
    header = [aliases[0] for aliases in COLUMNS[kind].values()]
    content = _xlsx(kind, header, rows) if fmt == "xlsx" else _csv(header, rows)
    return f"{kind}.{fmt}", MEDIA_TYPES[fmt], content


def _customer_records(session: Session) -> list[dict]:
    mains = {a.customer_id: a for a in session.scalars(select(Address).where(Address.kind == "main"))}
    records = []
    for c in session.scalars(select(Customer).where(Customer.merged_into_id.is_(None)).order_by(Customer.number)):
        main = mains.get(c.id)
        records.append({**{f: getattr(c, f) for f in COLUMNS["customers"] if hasattr(Customer, f)},
                        **{f: getattr(main, f) for f in ADDRESS_FIELDS if main is not None},
                        "credit_limit": _amount(c.credit_limit)})
    return records


def _contact_records(session: Session) -> list[dict]:
    rows = session.execute(select(Contact, Customer.number).join(Customer, Customer.id == Contact.customer_id)
                           .where(Customer.merged_into_id.is_(None))
                           .order_by(Customer.number, Contact.last_name, Contact.first_name, Contact.id))
    return [{**{f: getattr(contact, f) for f in COLUMNS["contacts"] if hasattr(Contact, f)}, "customer_number": number}
            for contact, number in rows]


def _product_records(session: Session) -> list[dict]:
    return [{**{f: getattr(p, f) for f in COLUMNS["products"]}, "tax_rate": _amount(p.tax_rate),
             "cost": _amount(p.cost)} for p in session.scalars(select(Product).order_by(Product.sku))]


def _amount(value: Decimal | None) -> Decimal | None:
    """Two decimals unless the value needs more (costs have four)."""
    if value is None:
        return None
    cents = value.quantize(Decimal("0.01"))
    return cents if cents == value else value.normalize()


def _xlsx(kind: str, header: list[str], rows: list[list]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(kind)
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):  # text stays text: no formula, no character Excel refuses
                value = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                value.data_type = "s"
            cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header)
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")  # the BOM tells Excel it is UTF-8


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")  # German Excel reads a decimal comma
    text = str(value)
    if text[:1] in FORMULA_START and not re.fullmatch(r"[+-][\d ()/.\-]*", text):
        return "'" + text  # a leading ' keeps Excel from running it; the import takes it off again
    return text
