"""Payments and open items through the API, on SQLite and PostgreSQL: bank statements written from a
template naming the invoices the test issued, imported by the worker's round; what is open after
each; the clarification task; the same file twice; a returned direct debit; the credit limit."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event, func, select

from domain.payments.balances import matchable_items, open_items_total
from domain.payments.models import BankStatementLine, Payment, PaymentAllocation
from tests.payment_support import camt, entry, import_waiting, imported, issued_invoices, open_of, upload
from tests.support import ok

TODAY = date.today()


@contextmanager
def counted(kontor):
    """The SELECT statements the engine runs inside the block."""
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)
    event.listen(kontor.engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(kontor.engine, "before_cursor_execute", note)
MT940 = (Path(__file__).parent / "data" / "mt940_sparkasse.sta").read_bytes()


def test_full_skonto_late_and_two_invoice_payments_leave_what_is_open(kontor, api):
    setup, invoices = issued_invoices(kontor, api, [10, 5, 2, 1, 1], skonto="2", book=4)
    full, skonto, late, first, second = invoices
    customer = setup["customer"]["id"]
    # 10 h consulting + 4 books: 1200.00 + 228.00 tax + 159.60 + 11.17 tax = 1598.77
    assert full["gross_total"] == "1598.77" and skonto["gross_total"] == "714.00"
    assert skonto["skonto_amount"] == "14.28"
    statement = imported(kontor, api, camt([
        entry("R-1", "1598.77", text=f"Rechnung {full['number']}"),
        entry("R-2", "699.72", text=f"{skonto['number']} abzgl. 2 % Skonto"),
        entry("R-3", "279.89", text=f"Rg. {late['number'].replace('-', ' ')}",  # 285.60 less 2 %, too late
              booked=TODAY + timedelta(days=11)),
        entry("R-4", "285.60", text=f"{first['number']} und {second['number']}"),
    ]))
    assert statement["state"] == "imported"
    assert statement["counts"] == {"matched": 3, "partial": 1, "overpaid": 0, "returned": 0, "unmatched": 0,
                                   "duplicate": 0}
    assert [(line["outcome"], line["rule"]) for line in statement["lines"]] == [
        ("matched", "invoice_number"), ("matched", "invoice_number"), ("partial", "invoice_number"),
        ("matched", "invoice_number")]
    opened = open_of(api, customer)
    assert opened["items"] == {late["number"]: "5.71"}  # the Skonto too late stays open
    assert opened["open_total"] == "5.71"
    # the Skonto is booked with its tax share (19 %): 14.28 = 12.00 net + 2.28 tax
    with kontor.transaction() as session:
        allocation = session.scalar(select(PaymentAllocation).where(PaymentAllocation.kind == "skonto"))
        assert (allocation.invoice_id, allocation.amount) == (skonto["id"], Decimal("14.28"))
        assert allocation.shares == [{"rate": "19.00", "gross": "14.28", "net": "12.00", "tax": "2.28"}]
    payments = ok(api.get(f"/payments?customer_id={customer}&sort=id", user="alma"))
    assert [p["amount"] for p in payments["items"]] == ["1598.77", "699.72", "279.89", "285.60"]
    assert [(a["invoice_id"], a["amount"]) for a in payments["items"][3]["allocations"]] == [
        (first["id"], "142.80"), (second["id"], "142.80")]
    overview = ok(api.get(f"/customers/{customer}/overview", user="sam"))
    assert overview["open_items_total"] == "5.71"
    # five invoices, their payments and Skonto read in a fixed number of queries, not one per invoice
    with kontor.transaction() as session, counted(kontor) as statements:
        assert open_items_total(session, customer, TODAY) == Decimal("5.71")
        assert len(statements) == 3
        statements.clear()
        items = matchable_items(session, today=TODAY, include_numbers=[full["number"], skonto["number"]])
        assert sorted(i.number for i in items) == sorted([late["number"], full["number"], skonto["number"]])
        assert len(statements) == 7  # the open ones (3), the settled ones named (3), the payers' accounts


def test_an_over_payment_is_the_customers_credit(kontor, api):
    setup, [invoice] = issued_invoices(kontor, api, [1])
    customer = setup["customer"]["id"]
    statement = imported(kontor, api, camt([entry("R-9", "200.00", text=invoice["number"])]))
    assert [line["outcome"] for line in statement["lines"]] == ["overpaid"]
    opened = open_of(api, customer)
    assert opened["items"] == {} and opened["credit"] == "57.20"
    [payment] = ok(api.get(f"/payments?customer_id={customer}", user="alma"))["items"]
    assert payment["credit"] == "57.20" and payment["allocations"][0]["amount"] == "142.80"


def test_the_same_file_twice_and_a_resent_statement_change_nothing(kontor, api):
    setup, [invoice] = issued_invoices(kontor, api, [2])
    content = camt([entry("R-1", "100.00", text=invoice["number"]),
                    entry("R-2", "50.00", text="Spende", payer_iban="DE44500105175407324931")])
    first = imported(kontor, api, content)
    assert first["counts"]["partial"] == 1 and first["counts"]["unmatched"] == 1
    again = imported(kontor, api, content)
    resent = imported(kontor, api, content.replace(b"STMT-1", b"STMT-1-RESENT"))  # the bank's entry refs recognise it
    for statement in (again, resent):
        assert statement["state"] == "imported" and statement["lines"] == []
        assert statement["counts"]["duplicate"] == 2 and statement["counts"]["partial"] == 0
    with kontor.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1
        assert session.scalar(select(func.count()).select_from(BankStatementLine)) == 2
    assert open_of(api, setup["customer"]["id"])["items"] == {invoice["number"]: "185.60"}
    tasks = ok(api.get("/tasks?process=payment_clarification", user="alma"))["items"]
    assert len(tasks) == 1  # one task for the unmatched line, not one per import


def test_an_unmatched_line_becomes_a_task_whose_completion_allocates(kontor, api):
    setup, [one, two] = issued_invoices(kontor, api, [1, 2])
    statement = imported(kontor, api, camt([
        entry("R-7", "300.00", text="Zahlung Dezember", payer_iban="DE75512108001245126199", payer="ACME AG")]))
    [line] = statement["lines"]
    assert (line["outcome"], line["reason"], line["clarification"]) == ("unmatched", "no_reference", "open")
    assert line["reason_text"] == "no document number and unknown account"
    [task] = ok(api.get("/tasks?process=payment_clarification", user="alma"))["items"]
    assert task["title"].startswith("Zahlung klären: 300.00 EUR")
    assert ok(api.get("/tasks?process=payment_clarification", user="sam"))["items"] == []  # accounting's task
    detail = ok(api.get(f"/tasks/{task['id']}", user="alma"))
    assert detail["context"]["line"]["amount"] == "300.00"

    def complete(data, user="alma", status=200):
        return ok(api.post(f"/tasks/{task['id']}/complete", {"data": data}, user=user), status)

    too_much = complete({"decision": "assign", "allocations": [
        {"invoice_number": one["number"], "amount": "200.00"}]}, status=422)
    assert "more than the 142.80 open" in str(too_much)
    complete({"decision": "assign", "allocations": [{"invoice_number": "INV-1999-0001", "amount": "1"}]}, status=422)
    complete({"decision": "assign", "allocations": []}, status=422)
    complete({"decision": "assign", "allocations": [{"invoice_number": one["number"], "amount": "142.80"}]},
             user="sam", status=404)  # not a candidate: the task is not even visible
    done = complete({"decision": "assign", "note": "ACME AG zahlt für ACME GmbH", "allocations": [
        {"invoice_number": one["number"], "amount": "142.80"}, {"invoice_number": two["number"], "amount": "150.00"}]})
    assert done["state"] == "completed"
    opened = open_of(api, setup["customer"]["id"])
    assert opened["items"] == {two["number"]: "135.60"} and opened["credit"] == "7.20"
    line = ok(api.get(f"/bank-statements/{statement['id']}", user="alma"))["lines"][0]
    assert (line["clarification"], line["clarified_by"], line["customer_id"]) == (
        "assigned", "alma", setup["customer"]["id"])
    # the payer's account is now known: its next transfer of an open amount is matched without a number
    later = imported(kontor, api, camt([entry("R-8", "135.60", payer_iban="DE75512108001245126199")], "STMT-2"))
    assert [(x["outcome"], x["rule"]) for x in later["lines"]] == [("matched", "amount_and_customer")]


def test_a_line_marked_as_no_customer_payment_books_nothing(kontor, api):
    issued_invoices(kontor, api, [1])
    imported(kontor, api, camt([entry("R-5", "999.00", text="Erstattung Finanzamt",
                                      payer_iban="DE27100777770209299700")]))
    [task] = ok(api.get("/tasks?process=payment_clarification", user="alma"))["items"]
    ok(api.post(f"/tasks/{task['id']}/complete", {"data": {"decision": "not_customer_payment"}}, user="alma"))
    with kontor.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 0
        assert session.scalar(select(BankStatementLine.clarification)) == "not_customer_payment"


def test_a_returned_direct_debit_reopens_the_invoice(kontor, api):
    setup, [invoice] = issued_invoices(kontor, api, [3])
    customer = setup["customer"]["id"]
    ok(api.post("/payments", {"customer_id": customer, "amount": "428.40", "booking_date": TODAY.isoformat(),
                              "source": "direct_debit", "reference": invoice["number"]}, user="alma"), 201)
    assert open_of(api, customer)["items"] == {}
    statement = imported(kontor, api, camt([
        entry("R-RET", "431.40", side="DBIT", end_to_end=invoice["number"], returned="AM04",
              text="RUECKLASTSCHRIFT AM04 ENTGELT 3,00")]))
    [line] = statement["lines"]
    assert (line["outcome"], line["is_return"], line["return_reason"]) == ("returned", True, "AM04")
    assert open_of(api, customer)["items"] == {invoice["number"]: "428.40"}


def test_payments_recorded_by_hand_with_allocations_or_by_reference(kontor, api):
    setup, [one, two] = issued_invoices(kontor, api, [1, 1])
    customer = setup["customer"]["id"]
    day = TODAY.isoformat()
    body = {"customer_id": customer, "amount": "100.00", "booking_date": day,
            "allocations": [{"invoice_id": one["id"], "amount": "100.00"}]}
    ok(api.post("/payments", body, user="sam"), 403)  # sales records no payments
    refused = ok(api.post("/payments", {**body, "allocations": [{"invoice_id": one["id"], "amount": "150.00"}]},
                          user="alma"), 422)
    assert refused["error"]["details"][0]["field"] == "allocations.0"
    ok(api.post("/payments", {**body, "amount": "50.00"}, user="alma"), 422)  # allocations exceed the money
    paid = ok(api.post("/payments", body, user="mona"), 201)
    assert paid["allocations"][0]["amount"] == "100.00" and paid["credit"] == "0.00"
    unmatched = ok(api.post("/payments", {"customer_id": customer, "amount": "10.00", "booking_date": day,
                                          "reference": "Abschlag"}, user="alma"), 422)
    assert unmatched["error"]["details"][0]["field"] == "reference"
    by_reference = ok(api.post("/payments", {"customer_id": customer, "amount": "142.80", "booking_date": day,
                                             "reference": f"Re {two['number']}"}, user="alma"), 201)
    assert [(a["invoice_id"], a["amount"]) for a in by_reference["allocations"]] == [(two["id"], "142.80")]
    assert open_of(api, customer)["items"] == {one["number"]: "42.80"}


def test_open_items_are_due_and_overdue_and_portal_users_read_only_their_own(kontor, api):
    from tests.support import ensure_user

    setup, [invoice] = issued_invoices(kontor, api, [1])
    customer = setup["customer"]["id"]
    found = ok(api.get(f"/open-items?customer_id={customer}", user="sam"))
    [group] = found["customers"]
    [item] = group["items"]
    assert (item["due"], item["overdue"], item["days_overdue"]) == (False, False, -30)
    assert ok(api.get(f"/open-items?customer_id={customer}&overdue=true", user="sam"))["customers"] == []
    assert found["totals"] == [{"currency": "EUR", "open_total": "142.80", "due_total": "0.00",
                                "overdue_total": "0.00"}]
    other = ok(api.post("/customers", {"name": "Andere GmbH"}, user="sam"), 201)
    ensure_user(kontor, "paula", ["portal"], customer_id=customer)
    ensure_user(kontor, "otto", ["portal"], customer_id=other["id"])
    assert ok(api.get("/open-items", user="paula"))["customers"][0]["items"][0]["number"] == invoice["number"]
    assert ok(api.get("/open-items", user="otto"))["customers"] == []
    ok(api.get(f"/open-items?customer_id={customer}", user="otto"), 404)
    ok(api.get("/payments", user="paula"), 404)
    ok(api.get("/bank-statements", user="paula"), 404)


def test_the_credit_limit_rule_reads_the_real_open_items(kontor, api):
    from tests.offer_support import new_offer, sales_setup

    setup = sales_setup(api, customer={"credit_limit": "2000.00"})
    _, [invoice] = issued_invoices(kontor, api, [10], setup=setup)  # 1428.00 open
    consulting = setup["products"]["consulting"]["id"]

    def need_of_an_offer_of(hours: int) -> dict:
        offer = new_offer(api, setup, lines=[{"product_id": consulting, "quantity": str(hours)}])
        return ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam"))["approval_need"]

    need = need_of_an_offer_of(5)  # 714.00 + 1428.00 open > 2000.00
    assert need["decided_on"]["over_credit_limit"] is True and need["rule"] == "credit limit exceeded with this offer"
    imported(kontor, api, camt([entry("R-CL", "1428.00", text=invoice["number"])]))
    need = need_of_an_offer_of(5)
    assert need["decided_on"]["over_credit_limit"] is False and need["level"] == "none"


def test_wrong_files_are_refused_naming_the_problem(kontor, api):
    for content, filename, message in (
            (b"", "empty.xml", "the file is empty"),
            (b"%PDF-1.7 ...", "statement.pdf", "neither a CAMT.053"),
            (b"<Document xmlns='urn:example'/>", "other.xml", "not a CAMT.053 statement"),
            (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><Stmt>',
             "cut.xml", "not well-formed XML"),
            (camt([entry("R-1", "12,50")]), "comma.xml", "amount '12,50'"),
            (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document/>', "dtd.xml", "declares a DTD"),
            (MT940.replace(b":25:12030000/202051", b":25:NOACCOUNT"), "x.sta", "is no IBAN")):
        refused = upload(api, content, filename, status=422)
        assert message in refused["error"]["details"][0]["message"], (filename, refused)
    upload(api, camt([]), user="sam", status=403)
    assert ok(api.get("/bank-statements", user="alma"))["total"] == 0


def test_the_sample_files_import(kontor, api):
    data = Path(__file__).parent / "data"
    for name in ("camt053_sparkasse.xml", "camt053_v02.xml", "mt940_sparkasse.sta"):
        statement = upload(api, (data / name).read_bytes(), name)
        assert statement["lines_total"] > 0
    assert import_waiting(kontor)["imported"] == 3
    statements = ok(api.get("/bank-statements?sort=id", user="alma"))["items"]
    assert [s["state"] for s in statements] == ["imported"] * 3
    assert statements[2]["format"] == "mt940" and statements[2]["account_iban"] == "DE02120300000000202051"
    assert all(sum(s["counts"].values()) == s["lines_total"] for s in statements)
