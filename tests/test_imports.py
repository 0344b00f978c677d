"""Importing customers, contacts and products from .xlsx and .csv files and exporting them again,
through the API, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from domain.catalog.models import Product
from domain.customers.models import Customer
from domain.imports import parse_number
from domain.users import add_user

GERMAN_CUSTOMERS = ["Name", "Land", "USt-IdNr", "Status", "Branche", "Zahlungsziel", "Währung", "Kreditlimit",
                    "Straße", "PLZ", "Ort"]
CUSTOMER_EXPORT_HEADER = ["Name", "Land", "USt-IdNr", "Steuerbehandlung", "Status", "Branche", "Zahlungsziel",
                          "Währung", "Kreditlimit", "Straße", "PLZ", "Ort"]


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.create_sheet("ignored").append(["only the first sheet counts"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


def upload(api, kind: str, filename: str, content: bytes, dry_run: bool | None = True, user: str = "sam"):
    data = {"kind": kind} if dry_run is None else {"kind": kind, "dry_run": str(dry_run).lower()}
    return api.client.post("/api/v1/imports", data=data, headers=api.headers(user),
                           files={"file": (filename, content, "application/octet-stream")})


def report(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def details(response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(d["field"], d["message"]) for d in response.json()["error"]["details"]]


def customers(api) -> list[dict]:
    return api.get("/customers", params={"sort": "number"}).json()["items"]


def create_customer(api, body: dict, user: str = "sam") -> dict:
    response = api.post("/customers", body, user=user)
    assert response.status_code == 201, response.text
    return response.json()


# ----------------------------------------------------------------- customers
def test_a_dry_run_reports_each_rows_errors_with_its_sheet_row_and_writes_nothing(api):
    content = xlsx([GERMAN_CUSTOMERS,
                    ["ACME GmbH", "DE", "DE136695976", "active", "IT", 30, "EUR", 1234.56, "Hauptstraße 1", 80331,
                     "München"],
                    ["Falsch AG", "DE", "DE136695977", None, None, None, None, None, None, None, None],
                    ["Ausland GmbH", "Deutschland", None, None, None, None, None, None, None, None, None],
                    [None] * 11,  # an empty row keeps its number
                    [None, "DE", None, None, None, None, None, "1.000,00", "Weg 2", "10115", "Berlin"],
                    ["Ohne Ort GmbH", None, None, None, None, "dreißig", None, None, "Weg 3", "10115", None]])
    result = report(upload(api, "customers", "Kunden.xlsx", content))
    assert (result["kind"], result["dry_run"], result["committed"]) == ("customers", True, False)
    assert (result["rows_total"], result["rows_ok"]) == (5, 1)
    assert result["errors"] == [
        {"row": 3, "field": "vat_id", "message": "'DE136695977' is not a valid VAT ID: The number's checksum or "
                                                 "check digit is invalid."},
        {"row": 4, "field": "country",
         "message": "must be a two-letter ISO 3166 country code in capitals, such as DE"},
        {"row": 6, "field": "name", "message": "Field required"},
        {"row": 7, "field": "payment_days", "message": "'dreißig' is not a number (write 1.234,56 or 1234.56)"},
        {"row": 7, "field": "city", "message": "Field required"},
    ]
    assert result["duplicates"] == []
    assert api.get("/customers").json()["total"] == 0
    assert create_customer(api, {"name": "Nach dem Probelauf"})["number"] == "V-000001"  # no number was used up


def test_the_dry_run_is_the_default(api):
    result = report(upload(api, "customers", "k.csv", csv_bytes([["Name"], ["Solo GmbH"]]), dry_run=None))
    assert (result["dry_run"], result["rows_ok"], result["errors"], result["committed"]) == (True, 1, [], False)
    assert api.get("/customers").json()["total"] == 0
    assert create_customer(api, {"name": "Echt GmbH"})["number"] == "V-000001"  # the dry run's number went back


def test_duplicates_of_stored_customers_and_within_the_file_are_named(api):
    acme = create_customer(api, {"name": "ACME GmbH"})
    content = csv_bytes([["name", " VAT ID ", "COUNTRY"], ["Acme GmbH", "", "de"],
                         ["Beta Handel GmbH", "DE 136 695 976", "DE"], ["Gamma Vertrieb AG", "DE136695976", "DE"]],
                        delimiter=",")
    result = report(upload(api, "customers", "dubletten.csv", content))
    assert (result["rows_ok"], result["errors"]) == (3, [])
    assert result["duplicates"] == [
        {"row": 2, "customer_number": acme["number"], "other_row": None, "name": "ACME GmbH", "score": 100,
         "reasons": ["a similar name (100 %)"]},
        {"row": 4, "customer_number": None, "other_row": 3, "name": "Beta Handel GmbH", "score": 100,
         "reasons": ["same VAT ID DE136695976"]},
    ]
    assert [c["name"] for c in customers(api)] == ["ACME GmbH"]


def test_a_real_import_with_one_bad_row_writes_nothing(api):
    content = csv_bytes([["Name", "USt-IdNr", "Kreditlimit"], ["Gut GmbH", "DE136695976", "100"],
                         ["Schlecht GmbH", "DE136695977", ""], ["Auch gut AG", "", "1.234,56"],
                         ["Zu genau AG", "", "12,345"]])
    response = upload(api, "customers", "import.csv", content, dry_run=False)
    assert details(response) == [
        ("row 3: vat_id", "'DE136695977' is not a valid VAT ID: The number's checksum or check digit is invalid."),
        ("row 5: credit_limit", "Decimal input should have no more than 2 decimal places")]
    error = response.json()["error"]
    assert error["message"] == "import.csv: 2 of 4 rows have errors; nothing was imported"
    assert (error["rows_total"], error["rows_with_errors"]) == (4, 2)
    assert api.get("/customers").json()["total"] == 0
    assert create_customer(api, {"name": "Danach"})["number"] == "V-000001"


def test_a_clean_import_writes_every_row_in_file_order_with_exact_amounts(api, kontor):
    content = "\ufeff".encode() + csv_bytes([
        GERMAN_CUSTOMERS + ["Steuerbehandlung"],
        ["Alpha Maschinenbau GmbH", "DE", "DE136695976", "Active", "Maschinenbau", "30", "eur", "1.234,56",
         "Hauptstraße 1", "80331", "München", ""],
        ["Beta AG", "", "", "", "", "", "", "1234.56", "", "", "", ""],
        ["Wiener Web GmbH", "AT", "ATU13585627", "lead", "", "14", "EUR", "1.000.000", "Ring 1", "1010", "Wien",
         "EU_reverse_charge"],
    ])
    body = upload(api, "customers", "kunden.csv", content, dry_run=False)
    result = report(body, 201)
    assert (result["rows_total"], result["rows_ok"], result["errors"], result["committed"]) == (3, 3, [], True)
    stored = customers(api)
    assert [(c["number"], c["name"]) for c in stored] == [
        ("V-000001", "Alpha Maschinenbau GmbH"), ("V-000002", "Beta AG"), ("V-000003", "Wiener Web GmbH")]
    alpha, beta, wien = stored
    assert (alpha["status"], alpha["currency"], alpha["payment_days"], alpha["credit_limit"], alpha["owner"]) == (
        "active", "EUR", 30, "1234.56", "sam")
    assert (beta["credit_limit"], beta["country"], beta["payment_days"]) == ("1234.56", "DE", 14)
    assert (wien["credit_limit"], wien["tax_treatment"], wien["vat_id"]) == ("1000000.00", "eu_reverse_charge",
                                                                             "ATU13585627")
    with kontor.transaction() as session:
        assert session.get(Customer, alpha["id"]).credit_limit == Decimal("1234.5600")
    [address] = api.get(f"/customers/{alpha['id']}/addresses").json()["items"]
    assert (address["kind"], address["street"], address["postal_code"], address["city"], address["country"],
            address["is_default"]) == ("main", "Hauptstraße 1", "80331", "München", "DE", True)
    assert api.get(f"/customers/{beta['id']}/addresses").json()["items"] == []
    assert api.get(f"/customers/{wien['id']}/addresses").json()["items"][0]["country"] == "AT"


def test_an_xlsx_import_reads_number_cells_exactly(api):
    content = xlsx([["Name", "Kreditlimit", "PLZ", "Straße", "Ort", "Zahlungsziel"],
                    ["Zahlen GmbH", 1234.56, 1067, "Weg 1", "Dresden", 30.0]])
    report(upload(api, "customers", "zahlen.XLSX", content, dry_run=False), 201)
    [stored] = customers(api)
    assert (stored["credit_limit"], stored["payment_days"]) == ("1234.56", 30)
    assert api.get(f"/customers/{stored['id']}/addresses").json()["items"][0]["postal_code"] == "1067"


def test_a_windows_1252_csv_keeps_its_umlauts(api):
    content = csv_bytes([["Name", "Country", "City", "Street", "Postal code"],
                         ["Müller Bäckerei GmbH", "DE", "Köln", "Große Straße 5", "50667"]],
                        delimiter=",", encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    report(upload(api, "customers", "kunden-windows.csv", content, dry_run=False), 201)
    [stored] = customers(api)
    assert stored["name"] == "Müller Bäckerei GmbH"
    [address] = api.get(f"/customers/{stored['id']}/addresses").json()["items"]
    assert (address["city"], address["street"]) == ("Köln", "Große Straße 5")


# ----------------------------------------------------------------- contacts and products
def test_contacts_attach_to_the_customer_by_its_number(api):
    acme = create_customer(api, {"name": "ACME GmbH"})
    rita_customer = create_customer(api, {"name": "Ritas Kunde"}, user="rita")
    rows = [["Kundennummer", "Vorname", "Nachname", "E-Mail", "Telefon", "Sprache", "Rolle"],
            [acme["number"], "Anna", "Berger", "anna@acme.example", "+49 89 123456", "DE", "Einkauf"],
            ["V-000099", "Otto", "Niemand", "", "", "", ""],
            [acme["number"], "Bob", "Brown", "not-an-address", "", "en", ""],
            [rita_customer["number"], "", "Fremd", "", "", "", ""],
            ["", "", "", "ohne-kunde@example.com", "", "", ""]]
    result = report(upload(api, "contacts", "kontakte.xlsx", xlsx(rows)))
    assert (result["rows_total"], result["rows_ok"]) == (5, 1)
    assert result["errors"] == [
        {"row": 3, "field": "customer_number", "message": "no customer V-000099"},
        {"row": 4, "field": "email", "message": "not a valid e-mail address, e.g. name@example.com"},
        {"row": 5, "field": "customer_number",
         "message": f"customer {rita_customer['number']} belongs to rita; only they or a manager change it"},
        {"row": 6, "field": "customer_number", "message": "Field required"},
        {"row": 6, "field": "last_name", "message": "Field required"},
    ]
    good = [rows[0], rows[1], [acme["number"], "Bob", "Brown", "bob@acme.example", "", "en", ""]]
    report(upload(api, "contacts", "kontakte.xlsx", xlsx(good), dry_run=False), 201)
    listed = api.get(f"/customers/{acme['id']}/contacts").json()["items"]
    assert [(c["full_name"], c["email"], c["language"], c["role"], c["phone"]) for c in listed] == [
        ("Anna Berger", "anna@acme.example", "de", "Einkauf", "+49 89 123456"),
        ("Bob Brown", "bob@acme.example", "en", None, None)]
    assert api.get(f"/customers/{acme['id']}").json()["preferred_contact_id"] == listed[0]["id"]


def test_products_import_reports_taken_and_repeated_skus(api, kontor):
    taken = api.post("/products", {"sku": "SVC-1", "name_de": "Service"}, user="mona")
    assert taken.status_code == 201, taken.text
    header = ["Artikelnummer", "Bezeichnung", "Name (en)", "Einheit", "Steuersatz", "Kosten", "Sichtbarkeit"]
    rows = [header, ["SVC-1", "Doppelt", "", "", "", "", ""],
            ["LIC-1", "Lizenz", "Licence", "Monat", "19", "1.234,5678", "Public"],
            ["LIC-1", "Lizenz nochmal", "", "", "", "", ""],
            ["HW-2", "Gerät", "", "", "7", "", "geheim"]]
    result = report(upload(api, "products", "artikel.csv", csv_bytes(rows), user="mona"))
    assert result["errors"] == [
        {"row": 2, "field": "sku", "message": "'SVC-1' exists already"},
        {"row": 4, "field": "sku", "message": "'LIC-1' is in row 3 already"},
        {"row": 5, "field": "visibility",
         "message": "Input should be 'public', 'prices_after_login' or 'internal'"},
    ]
    assert upload(api, "products", "artikel.csv", csv_bytes(rows), user="sam").status_code == 403
    good = [header, rows[2], ["HW-2", "Gerät", "Device", "", "7", "", "internal"]]
    result = report(upload(api, "products", "artikel.csv", csv_bytes(good), dry_run=False, user="mona"), 201)
    assert result["rows_ok"] == 2
    items = api.get("/products", params={"sort": "sku"}, user="mona").json()["items"]
    assert [(p["sku"], p["name_de"], p["unit"], p["tax_rate"], p["cost"], p["visibility"]) for p in items] == [
        ("HW-2", "Gerät", "piece", "7.00", None, "internal"),
        ("LIC-1", "Lizenz", "Monat", "19.00", "1234.57", "public"),
        ("SVC-1", "Service", "piece", "19.00", None, "prices_after_login")]
    with kontor.transaction() as session:
        from sqlalchemy import select
        assert session.scalar(select(Product.cost).where(Product.sku == "LIC-1")) == Decimal("1234.5678")


# ----------------------------------------------------------------- exports
def seed_for_export(api) -> list[dict]:
    acme = create_customer(api, {"name": "ACME Datentechnik GmbH", "vat_id": "DE136695976", "status": "active",
                                 "industry": "IT", "payment_days": 30, "credit_limit": "25000.50",
                                 "main_address": {"street": "Hauptstraße 1", "postal_code": "80331",
                                                  "city": "München"}})
    wien = create_customer(api, {"name": "Wiener Web GmbH", "country": "AT", "tax_treatment": "eu_reverse_charge",
                                 "vat_id": "U13585627", "currency": "EUR"})
    formula = create_customer(api, {"name": "=HYPERLINK(\"http://x\")"})
    merged = create_customer(api, {"name": "Wiener Web (alt)"})
    response = api.post(f"/customers/{wien['id']}/merge", {"merged_id": merged["id"]}, user="mona")
    assert response.status_code == 200, response.text
    return [acme, wien, formula]


def download(api, path: str, user: str = "sam"):
    response = api.client.get(f"/api/v1/exports/{path}", headers=api.headers(user))
    assert response.status_code == 200, response.text
    return response


def test_customers_export_as_xlsx_and_csv_and_read_back_as_duplicates_of_themselves(api):
    acme, wien, formula = seed_for_export(api)
    workbook = download(api, "customers.xlsx")
    assert workbook.headers["content-disposition"] == 'attachment; filename="customers.xlsx"'
    assert workbook.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(workbook.content)).worksheets[0]
    assert list(sheet.iter_rows(values_only=True)) == [
        tuple(CUSTOMER_EXPORT_HEADER),
        ("ACME Datentechnik GmbH", "DE", "DE136695976", "domestic", "active", "IT", 30, "EUR", 25000.5,
         "Hauptstraße 1", "80331", "München"),
        ("Wiener Web GmbH", "AT", "ATU13585627", "eu_reverse_charge", "lead", None, 14, "EUR", None, None, None, None),
        ('=HYPERLINK("http://x")', "DE", None, "domestic", "lead", None, 14, "EUR", None, None, None, None),
    ]
    text = download(api, "customers.csv")
    assert text.headers["content-disposition"] == 'attachment; filename="customers.csv"'
    assert text.content.startswith(b"\xef\xbb\xbf")
    assert text.content.decode("utf-8-sig").splitlines() == [
        ";".join(CUSTOMER_EXPORT_HEADER),
        "ACME Datentechnik GmbH;DE;DE136695976;domestic;active;IT;30;EUR;25000,50;Hauptstraße 1;80331;München",
        "Wiener Web GmbH;AT;ATU13585627;eu_reverse_charge;lead;;14;EUR;;;;",
        "\"'=HYPERLINK(\"\"http://x\"\")\";DE;;domestic;lead;;14;EUR;;;;",
    ]
    for filename, content in (("customers.xlsx", workbook.content), ("customers.csv", text.content)):
        result = report(upload(api, "customers", filename, content))
        assert (result["rows_total"], result["rows_ok"], result["errors"]) == (3, 3, []), filename
        named = {(d["row"], d["customer_number"]) for d in result["duplicates"] if d["score"] == 100}
        assert named == {(2, acme["number"]), (3, wien["number"]), (4, formula["number"])}, result["duplicates"]
    assert api.get("/customers").json()["total"] == 3


def test_contacts_and_products_export_in_the_import_columns(api):
    acme = create_customer(api, {"name": "ACME GmbH"})
    beta = create_customer(api, {"name": "Beta AG"})
    for customer, last, first in ((beta, "Zander", "Zoe"), (acme, "Meier", None), (acme, "Berger", "Anna")):
        body = {"last_name": last, "first_name": first, "email": f"{last.lower()}@x.example", "language": "en"}
        assert api.post(f"/customers/{customer['id']}/contacts", body, user="sam").status_code == 201
    assert api.post("/products", {"sku": "B-2", "name_de": "Beratung", "unit": "hour", "cost": "80.1234",
                                  "tax_rate": "19"}, user="mona").status_code == 201
    assert api.post("/products", {"sku": "A-1", "name_de": "Anlage", "name_en": "Plant", "tax_rate": "7",
                                  "visibility": "public"}, user="mona").status_code == 201
    contacts = download(api, "contacts.csv", user="olga").content.decode("utf-8-sig").splitlines()
    assert contacts == ["Kundennummer;Anrede;Vorname;Nachname;Rolle;E-Mail;Telefon;Mobil;Sprache",
                        f"{acme['number']};;Anna;Berger;;berger@x.example;;;en",
                        f"{acme['number']};;;Meier;;meier@x.example;;;en",
                        f"{beta['number']};;Zoe;Zander;;zander@x.example;;;en"]
    products = download(api, "products.csv", user="mona").content.decode("utf-8-sig").splitlines()
    assert products == ["Artikelnummer;Bezeichnung;Name (en);Einheit;Steuersatz;Kosten;Sichtbarkeit",
                        "A-1;Anlage;Plant;piece;7,00;;public",
                        "B-2;Beratung;;hour;19,00;80,1234;prices_after_login"]
    sheet = load_workbook(io.BytesIO(download(api, "products.xlsx").content), read_only=True).worksheets[0]
    assert [row[:6] for row in sheet.iter_rows(values_only=True)][1:] == [
        ("A-1", "Anlage", "Plant", "piece", 7, None), ("B-2", "Beratung", None, "hour", 19, 80.1234)]
    again = report(upload(api, "contacts", "contacts.csv", download(api, "contacts.csv").content))
    assert (again["rows_ok"], again["errors"]) == (3, [])


# ----------------------------------------------------------------- permissions and bad files
def test_who_may_import_and_export(api, kontor):
    customer = create_customer(api, {"name": "Portal GmbH"})
    with kontor.transaction() as session:
        add_user(session, "paula", "paula-password", ["portal"], customer_id=customer["id"])
    content = csv_bytes([["Name"], ["Neu GmbH"]])
    for user, kind in (("olga", "customers"), ("olga", "contacts"), ("ivan", "customers"), ("paula", "customers"),
                       ("sam", "products"), ("olga", "products")):
        response = upload(api, kind, "x.csv", content, user=user)
        assert response.status_code == 403, (user, kind, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert upload(api, "customers", "x.csv", content, user="mona").status_code == 200
    for path in ("customers.xlsx", "contacts.csv", "products.csv"):
        for user in ("paula", "ivan"):
            response = api.client.get(f"/api/v1/exports/{path}", headers=api.headers(user))
            assert response.status_code == 403, (path, user, response.text)
    assert api.client.get("/api/v1/exports/customers.pdf", headers=api.headers("sam")).status_code == 422
    assert api.client.get("/api/v1/exports/invoices.csv", headers=api.headers("sam")).status_code == 422


@pytest.mark.parametrize("filename, content, message", [
    ("kunden.txt", b"Name\nACME GmbH\n", "not an .xlsx or .csv file"),
    ("kunden.xlsx", b"Name;Land\nACME GmbH;DE\n", "not an .xlsx or .csv file"),
    ("kunden.csv", b"PK\x03\x04 a zip archive", "not an .xlsx or .csv file"),
    ("kunden.xlsx", b"PK\x03\x04 but no workbook", "not a readable .xlsx workbook (BadZipFile)"),
    ("kunden.csv", b"Name;Farbe\nACME GmbH;blau\n",
     "unknown columns Farbe; known: Name, Land, USt-IdNr, Steuerbehandlung, Status, Branche, Zahlungsziel, "
     "Währung, Kreditlimit, Straße, PLZ, Ort"),
    ("kunden.csv", b"Land;Ort\nDE;Berlin\n", "the column Name is missing"),
    ("kunden.csv", b"Name;name\nA;B\n", "a column appears twice"),
    ("kunden.csv", b"Name\n", "no data rows below the header"),
    ("kunden.csv", b"", "empty: no header row"),
    ("kunden.csv", b"Name\n" + b"Firma GmbH\n" * 10_001, "more than 10000 rows"),
    ("kunden.csv", b"Name\n" + b"x" * (5 * 1024 * 1024), "larger than 5 MB"),
])
def test_a_file_that_is_not_a_readable_table_is_refused_by_the_field_file(api, filename, content, message):
    for dry_run in (True, False):
        response = upload(api, "customers", filename, content, dry_run=dry_run)
        assert details(response) == [("file", message)]
        assert response.json()["error"]["message"] == f"{filename}: {message}"
    assert api.get("/customers").json()["total"] == 0


def test_the_upload_needs_its_form_fields(api):
    response = api.client.post("/api/v1/imports", data={"kind": "invoices"},
                               files={"file": ("k.csv", b"Name\nA\n", "text/csv")}, headers=api.headers("sam"))
    assert [field for field, _ in details(response)] == ["kind"]
    response = api.client.post("/api/v1/imports", data={"kind": "customers"}, headers=api.headers("sam"))
    assert [field for field, _ in details(response)] == ["file"]


# ----------------------------------------------------------------- numbers
@pytest.mark.parametrize("cell, expected", [
    ("1.234,56", "1234.56"), ("1234.56", "1234.56"), ("1,234.56", "1234.56"), ("1234,5", "1234.5"),
    ("1.000.000", "1000000"), ("1 234,56 €", "1234.56"), ("-7", "-7"), (1234.56, "1234.56"), (0.1, "0.1"),
    (30, "30"), ("0,0001", "0.0001"),
])
def test_numbers_are_read_exactly(cell, expected):
    assert str(parse_number(cell)) == expected


@pytest.mark.parametrize("cell", ["1.23.4,5", "12,34,5", "abc", "1e5", ",5", "1.234,", True])
def test_what_is_no_number_is_refused(cell):
    with pytest.raises(ValueError):
        parse_number(cell)
