"""Every invoice is issued with its e-invoice, validated before the issue commits (XSD, the CEN rules
of EN 16931, for XRechnung KoSIT's too): Factur-X by default, XRechnung (CII or UBL) for customers
with a Leitweg-ID. A broken rule stops the issue, names the rule and gives the number back."""
from __future__ import annotations

import time
from datetime import date

import pytest
from lxml import etree

from domain.einvoicing.hybrid_pdf import read_figures
from tests.invoice_support import approval_tasks, deliver, draft, drive, issue, order_of, release, sales_setup
from tests.support import ok

pytestmark = pytest.mark.usefixtures("mail")  # the worker sends the invoices over SMTP

LEITWEG_ID = "991-01234-44"
CII = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
       "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def issued_with(kontor, api, customer: dict | None = None) -> tuple[dict, bytes]:
    setup = sales_setup(api, customer=customer)
    order = order_of(kontor, api, setup, lines=[{"product_id": setup["products"]["consulting"]["id"], "quantity": "3"},
                                                {"product_id": setup["products"]["book"]["id"], "quantity": "2"}])
    deliver(api, order, {1: "3", 2: "2"}, service_from="2026-11-02", service_to="2026-11-13")
    [invoice] = draft(api, order_id=order["id"])
    invoice = issue(kontor, api, invoice)
    response = api.get(f"/invoices/{invoice['id']}/xml", user="alma")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    return invoice, response.content


def test_an_invoice_is_issued_with_a_factur_x_whose_figures_are_the_invoices(kontor, api):
    invoice, xml = issued_with(kontor, api)
    tree = etree.fromstring(xml)
    assert tree.findtext(".//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", namespaces=CII) == \
        "urn:cen.eu:en16931:2017"
    assert tree.findtext(".//rsm:ExchangedDocument/ram:ID", namespaces=CII) == invoice["number"]
    figures = read_figures(xml)
    assert (str(figures.tax_exclusive), str(figures.tax_total), str(figures.tax_inclusive)) == (
        invoice["net_total"], invoice["tax_total"], invoice["gross_total"])
    assert str(figures.amount_due) == invoice["amount_due"]


def test_a_public_customer_gets_xrechnung_with_its_leitweg_id_in_cii_or_ubl(kontor, api):
    invoice, xml = issued_with(kontor, api, {"name": "Stadt Musterhausen", "einvoice_format": "xrechnung_cii",
                                             "buyer_reference": LEITWEG_ID})
    tree = etree.fromstring(xml)
    assert "xrechnung_3.0" in tree.findtext(".//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
                                            namespaces=CII)
    assert tree.findtext(".//ram:BuyerReference", namespaces=CII) == LEITWEG_ID
    invoice, xml = issued_with(kontor, api, {"name": "Landkreis Beispiel", "einvoice_format": "xrechnung_ubl",
                                             "buyer_reference": LEITWEG_ID})
    tree = etree.fromstring(xml)
    assert etree.QName(tree).localname == "Invoice"
    assert tree.findtext("{*}BuyerReference") == LEITWEG_ID and tree.findtext("{*}ID") == invoice["number"]
    assert str(read_figures(xml).tax_inclusive) == invoice["gross_total"]


def test_xrechnung_without_a_leitweg_id_is_refused_on_the_customer(api):
    answer = ok(api.post("/customers", {"name": "Amt ohne Leitweg", "einvoice_format": "xrechnung_ubl"},
                         user="sam"), 422)
    assert answer["error"]["details"] == [{"field": "buyer_reference", "message": answer["error"]["details"][0][
        "message"]}] and "Leitweg" in answer["error"]["details"][0]["message"]


def test_a_broken_rule_stops_the_release_naming_it(kontor, api, monkeypatch):
    setup = sales_setup(api, customer={"name": "Stadt Musterhausen", "einvoice_format": "xrechnung_cii",
                                       "buyer_reference": LEITWEG_ID})
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "10"})
    [invoice] = draft(api, order_id=order["id"])
    monkeypatch.setattr(kontor.settings, "company_phone", None)  # XRechnung wants the seller's phone (BR-DE-6)
    answer = ok(api.post(f"/invoices/{invoice['id']}/issue", {}, user="alma"), 422)
    assert [d["field"] for d in answer["error"]["details"]] == ["BR-DE-6"]
    assert "BT-42" in answer["error"]["details"][0]["message"]
    refused = ok(api.get(f"/invoices/{invoice['id']}", user="alma"))
    assert (refused["status"], refused["number"], refused["instance_id"]) == ("draft", None, None)
    ok(api.get(f"/invoices/{invoice['id']}/xml", user="alma"), 404)


def test_a_rule_broken_after_the_release_stops_the_issue_with_an_incident_and_the_number_goes_back(
        kontor, api, monkeypatch):
    setup = sales_setup(api, customer={"name": "Stadt Musterhausen", "einvoice_format": "xrechnung_cii",
                                       "buyer_reference": LEITWEG_ID})
    order = order_of(kontor, api, setup)
    deliver(api, order, {1: "10"})
    [invoice] = draft(api, order_id=order["id"])
    released = release(api, invoice)
    [task] = approval_tasks(api, released["instance_id"])  # the customer's first invoice: four eyes
    ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "approve"}}, user="arne"))
    monkeypatch.setattr(kontor.settings, "company_phone", None)  # changed before the worker issues it
    for _ in range(10):  # every attempt refused (a short backoff in the tests): then an incident
        drive(kontor)
        incidents = ok(api.get("/incidents", user="olga"))["items"]
        if incidents:
            break
        time.sleep(0.3)
    [incident] = incidents
    assert "BR-DE-6" in incident["error"] and "BT-42" in incident["error"]
    assert ok(api.get(f"/invoices/{invoice['id']}", user="alma"))["number"] is None
    monkeypatch.undo()
    ok(api.post(f"/incidents/{incident['id']}/retry", user="olga"))
    drive(kontor)
    issued = ok(api.get(f"/invoices/{invoice['id']}", user="alma"))
    assert (issued["status"], issued["number"]) == ("issued", f"INV-{date.today().year}-0001")
