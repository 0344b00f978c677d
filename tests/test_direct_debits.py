"""SEPA direct debits through the API, on SQLite and PostgreSQL: mandates recorded with a checked IBAN,
revoked mandates collect nothing, a mandate's first collection is FRST and every later one RCUR, the
pain.008 file validates against the schema and names each invoice once, an invoice is collected by
one run only (the database refuses a second), and who may do what."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy.exc import IntegrityError

from domain.payments.direct_debits import direct_debit_items
from domain.payments.mandate_models import DirectDebitItem
from domain.payments.sepa_debit import SepaDataError, validate_pain008
from tests.invoice_support import deliver, draft, issue_now, order_of, sales_setup
from tests.support import ensure_user, ok

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}
IBAN = "DE89 3704 0044 0532 0130 00"
COLLECT_ON = (date.today() + timedelta(days=5)).isoformat()


def mandate(api, customer_id: int, reference: str, iban: str = IBAN, user: str = "alma", status: int = 201,
            **fields) -> dict:
    body = {"reference": reference, "signed_on": "2026-01-15", "debtor_name": "ACME Maschinenbau GmbH",
            "iban": iban, **fields}
    return ok(api.post(f"/customers/{customer_id}/mandates", body, user=user), status)


def issued_invoice(kontor, api, setup, hours: str = "10") -> dict:
    order = order_of(kontor, api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"],
                                                 "quantity": hours}])
    deliver(api, order, {1: hours})
    [invoice] = draft(api, order_id=order["id"])
    return issue_now(kontor, api, invoice)


def another_customer(api, setup: dict, name: str, **fields) -> dict:
    """A second customer on the same catalog and price list, with a contact who receives offers."""
    customer = ok(api.post("/customers", {"name": name, "main_address": {
        "street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin"}, **fields}, user="sam"), 201)
    ok(api.post(f"/customers/{customer['id']}/contacts", {
        "first_name": "Bea", "last_name": "Berg", "email": f"einkauf.{customer['id']}@{name[:4].lower()}.test",
        "receives": ["offers", "invoices"]}, user="sam"), 201)
    return {**setup, "customer": customer}


def collect(api, status: int = 201, user: str = "alma", **fields) -> dict:
    return ok(api.post("/direct-debits", {"collection_date": COLLECT_ON, **fields}, user=user), status)


def end_to_end(xml: bytes) -> list[tuple[str, str, str]]:
    """(end-to-end id, sequence type, amount) of every collection in the file."""
    root = etree.fromstring(xml)
    found = []
    for block in root.iterfind(".//p:PmtInf", NS):
        sequence = block.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS)
        for debit in block.iterfind("p:DrctDbtTxInf", NS):
            found.append((debit.findtext("p:PmtId/p:EndToEndId", namespaces=NS), sequence,
                          debit.findtext("p:InstdAmt", namespaces=NS)))
    return sorted(found)


def test_a_bad_iban_or_bic_is_refused_naming_the_field_and_a_good_one_is_kept_compact(api):
    customer = sales_setup(api)["customer"]["id"]
    answer = mandate(api, customer, "M-BAD-1", iban="DE89 3704 0044 0532 0130 01", status=422)
    assert [d["field"] for d in answer["error"]["details"]] == ["iban"]
    assert "check digits" in answer["error"]["details"][0]["message"]
    answer = mandate(api, customer, "M-BAD-2", bic="NOTABIC", status=422)
    assert [d["field"] for d in answer["error"]["details"]] == ["bic"]
    answer = mandate(api, customer, "M-BAD-3", signed_on=(date.today() + timedelta(days=1)).isoformat(), status=422)
    assert [d["field"] for d in answer["error"]["details"]] == ["signed_on"]
    kept = mandate(api, customer, "M-GOOD-1", bic="COBADEFFXXX")
    assert (kept["iban"], kept["bic"], kept["status"], kept["next_sequence_type"]) == (
        "DE89370400440532013000", "COBADEFFXXX", "active", "FRST")
    mandate(api, customer, "M-GOOD-1", status=409)  # the reference is unique
    assert [m["reference"] for m in ok(api.get(f"/customers/{customer}/mandates", user="sam"))] == ["M-GOOD-1"]


def test_first_collection_is_frst_then_rcur_and_no_invoice_is_collected_twice(kontor, api):
    setup = sales_setup(api)
    customer = setup["customer"]["id"]
    made = mandate(api, customer, "M-ACME-1")
    first = issued_invoice(kontor, api, setup)
    run = collect(api)
    assert [(i["invoice_id"], i["end_to_end_id"], i["sequence_type"], i["amount"]) for i in run["items"]] == [
        (first["id"], first["number"], "FRST", first["amount_due"])]
    assert (run["item_count"], run["total"]) == (1, first["amount_due"])
    assert ok(api.get(f"/customers/{customer}/mandates", user="alma"))[0]["next_sequence_type"] == "RCUR"

    collect(api, status=409)  # nothing left: the first invoice is collected already
    second = issued_invoice(kontor, api, setup, hours="2")
    again = collect(api)
    assert [(i["invoice_id"], i["sequence_type"], i["mandate_id"]) for i in again["items"]] == [
        (second["id"], "RCUR", made["id"])]
    xml = api.get(f"/direct-debits/{again['id']}/file", user="alma").content
    assert end_to_end(xml) == [(second["number"], "RCUR", second["amount_due"])]

    with kontor.transaction() as session:
        found = direct_debit_items(session, [first["id"], second["id"], 10**6])
        assert {k: (v.run_id, v.sequence_type, v.mandate_reference) for k, v in found.items()} == {
            first["id"]: (run["id"], "FRST", "M-ACME-1"), second["id"]: (again["id"], "RCUR", "M-ACME-1")}
    with pytest.raises(IntegrityError):  # the database itself refuses a second collection
        with kontor.transaction() as session:
            session.add(DirectDebitItem(run_id=again["id"], invoice_id=first["id"], mandate_id=made["id"],
                                        amount=first["amount_due"], end_to_end_id=first["number"],
                                        sequence_type="RCUR"))


def test_the_file_validates_and_names_every_owed_invoice_once_revoked_and_credited_ones_not(kontor, api):
    acme = sales_setup(api)
    beta, gamma = another_customer(api, acme, "Beta GmbH"), another_customer(api, acme, "Gamma KG")
    mandate(api, acme["customer"]["id"], "M-ACME")
    mandate(api, beta["customer"]["id"], "M-BETA", iban="DE02120300000000202051", debtor_name="Beta GmbH")
    revoked = mandate(api, gamma["customer"]["id"], "M-GAMMA", iban="DE02500105170137075030")
    assert ok(api.post(f"/mandates/{revoked['id']}/revoke", user="alma"))["status"] == "revoked"
    acme_1, acme_2 = issued_invoice(kontor, api, acme), issued_invoice(kontor, api, acme, "3")
    beta_1, gamma_1 = issued_invoice(kontor, api, beta, "4"), issued_invoice(kontor, api, gamma)
    cancelled = issued_invoice(kontor, api, beta, "1")
    note = ok(api.post(f"/invoices/{cancelled['id']}/credit-notes", {"reason": "Storno"}, user="alma"), 201)
    issue_now(kontor, api, note)

    run = collect(api)
    xml = api.get(f"/direct-debits/{run['id']}/file", user="alma").content
    validate_pain008(xml)
    with pytest.raises(SepaDataError):  # the check sees a broken file
        validate_pain008(xml.replace(b"<EndToEndId>", b"<EndToEndIdent>", 1))
    assert end_to_end(xml) == sorted([(i["number"], "FRST", i["amount_due"]) for i in (acme_1, acme_2, beta_1)])
    assert gamma_1["number"] not in xml.decode() and cancelled["number"] not in xml.decode()
    root = etree.fromstring(xml)
    assert {e.text for e in root.iterfind(".//p:MndtId", NS)} == {"M-ACME", "M-BETA"}
    assert root.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) == "DE98ZZZ09999999999"
    assert root.findtext(".//p:LclInstrm/p:Cd", namespaces=NS) == "CORE"
    collect(api, scheme="B2B", status=409)  # no B2B mandates: nothing to collect
    ok(api.post("/direct-debits", {"collection_date": date.today().isoformat()}, user="alma"), 422)


def test_who_may_record_read_revoke_and_collect(kontor, api):
    setup = sales_setup(api)
    customer = setup["customer"]["id"]
    other = ok(api.post("/customers", {"name": "Andere AG"}, user="mona"), 201)["id"]
    ensure_user(kontor, "pia-own", ["portal"], customer_id=customer)
    ensure_user(kontor, "pia-other", ["portal"], customer_id=other)

    mandate(api, customer, "M-ROLE-0", user="sam", status=403)  # the customer's own salesperson: no
    mandate(api, customer, "M-ROLE-0", user="pia-own", status=404)
    made = mandate(api, customer, "M-ROLE-1", user="mona")  # managers may
    assert ok(api.get(f"/customers/{customer}/mandates", user="sam"))[0]["iban"] == "DE89370400440532013000"
    own = ok(api.get(f"/customers/{customer}/mandates", user="pia-own"))
    assert own[0]["iban"] == "DE89 **** **** **** **30 00" and own[0]["reference"] == "M-ROLE-1"
    assert ok(api.get(f"/customers/{customer}/mandates", user="pia-other"), 404)["error"]["code"] == "not_found"
    ok(api.post(f"/mandates/{made['id']}/revoke", user="pia-other"), 404)
    ok(api.post(f"/mandates/{made['id']}/revoke", user="pia-own"), 404)
    ok(api.post(f"/mandates/{made['id']}/revoke", user="sam"), 403)
    assert ok(api.get(f"/customers/{customer}/mandates", user="alma"))[0]["status"] == "active"

    issued_invoice(kontor, api, setup)
    collect(api, user="sam", status=403)
    collect(api, user="pia-own", status=404)
    run = collect(api, user="mona")
    for user, status in (("sam", 403), ("pia-own", 404), ("pia-other", 404), ("olga", 403)):
        ok(api.get(f"/direct-debits/{run['id']}", user=user), status)
        ok(api.get(f"/direct-debits/{run['id']}/file", user=user), status)
    assert ok(api.get(f"/direct-debits/{run['id']}", user="alma"))["items"][0]["sequence_type"] == "FRST"
    ok(api.get("/direct-debits/999999", user="alma"), 404)


def test_a_b2b_file_names_its_scheme_and_an_unknown_scheme_is_refused():
    from domain.payments.sepa_debit import Creditor, DirectDebit, build_direct_debit_file

    creditor = Creditor("Kontor Demo GmbH", "DE02120300000000202051", "DE98ZZZ09999999999")
    debit = DirectDebit("M-B2B-1", date(2026, 1, 15), "ACME GmbH", IBAN, Decimal("10.00"), "INV-2026-0001", "FRST",
                        date.today() + timedelta(days=5))
    root = etree.fromstring(build_direct_debit_file(creditor, [debit], scheme="B2B"))
    assert root.findtext(".//p:LclInstrm/p:Cd", namespaces=NS) == "B2B"
    with pytest.raises(SepaDataError, match="neither CORE nor B2B"):
        build_direct_debit_file(creditor, [debit], scheme="COR1")  # type: ignore[arg-type]
