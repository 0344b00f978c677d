"""Helpers of the payment tests: invoices issued through the API, CAMT.053 statements written from a
template naming those invoices, uploads and the worker's import round."""
from __future__ import annotations

import logging
from datetime import date
from xml.sax.saxutils import escape

from flows.statement_imports import statement_imports_round
from tests.invoice_support import deliver, draft, issue_now, order_of, sales_setup
from tests.support import ok

ACCOUNT = "DE02120300000000202051"
PAYER = "DE89370400440532013000"


def issued_invoices(kontor, api, hours: list[int], *, skonto: str | None = None, setup: dict | None = None,
                    book: int = 0) -> tuple[dict, list[dict]]:
    """One issued invoice per entry of `hours` (consulting at 120.00 + 19 %; `book` books at 39.90 + 7 %
    on the first one), optionally with `skonto` percent for 10 days."""
    setup = setup or sales_setup(api)
    consulting, books = setup["products"]["consulting"]["id"], setup["products"]["book"]["id"]
    lines = [{"product_id": consulting, "quantity": str(sum(hours))}]
    if book:
        lines.append({"product_id": books, "quantity": str(book)})
    order = order_of(kontor, api, setup, lines=lines)
    invoices = []
    for index, count in enumerate(hours):
        deliver(api, order, {1: str(count), **({2: str(book)} if book and index == 0 else {})})
        [made] = draft(api, order_id=order["id"])
        if skonto:
            made = ok(api.patch(f"/invoices/{made['id']}", {"skonto_percent": skonto, "skonto_days": 10,
                                                            "version": made["version"]}, user="alma"))
        invoices.append(issue_now(kontor, api, made))
    return setup, invoices


def entry(reference: str, amount: str, *, text: str = "", side: str = "CRDT", booked: date | None = None,
          end_to_end: str | None = None, payer_iban: str = PAYER, payer: str = "ACME Maschinenbau GmbH",
          returned: str | None = None) -> str:
    """One CAMT.053 entry with one transaction detail."""
    day = (booked or date.today()).isoformat()
    party = "Dbtr" if (side == "CRDT") != bool(returned) else "Cdtr"
    return (f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd><Sts>BOOK</Sts>'
            f'<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>'
            f'<AcctSvcrRef>{escape(reference)}</AcctSvcrRef><NtryDtls><TxDtls>'
            f'<Refs><EndToEndId>{escape(end_to_end or "NOTPROVIDED")}</EndToEndId></Refs>'
            f'<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>'
            f'<RltdPties><{party}><Nm>{escape(payer)}</Nm></{party}>'
            f'<{party}Acct><Id><IBAN>{payer_iban}</IBAN></Id></{party}Acct></RltdPties>'
            f'<RmtInf><Ustrd>{escape(text)}</Ustrd></RmtInf>'
            + (f'<RtrInf><Rsn><Cd>{returned}</Cd></Rsn></RtrInf>' if returned else "")
            + '</TxDtls></NtryDtls></Ntry>')


def camt(entries: list[str], statement_id: str = "STMT-1", day: date | None = None) -> bytes:
    """A CAMT.053.001.08 statement of the company's account with these entries."""
    day = (day or date.today()).isoformat()
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
            f'<GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{day}T06:00:00</CreDtTm></GrpHdr>'
            f'<Stmt><Id>{statement_id}</Id><CreDtTm>{day}T06:00:00</CreDtTm>'
            f'<FrToDt><FrDtTm>{day}T00:00:00</FrDtTm><ToDtTm>{day}T23:59:59</ToDtTm></FrToDt>'
            f'<Acct><Id><IBAN>{ACCOUNT}</IBAN></Id><Ccy>EUR</Ccy></Acct>'
            + "".join(entries) + '</Stmt></BkToCstmrStmt></Document>').encode("utf-8")


def upload(api, content: bytes, filename: str = "statement.xml", user: str = "alma", status: int = 202) -> dict:
    response = api.post("/bank-statements", user=user, files={"file": (filename, content, "application/xml")})
    return ok(response, status)


def import_waiting(kontor) -> dict:
    """The worker's round, run without a flow run (the flow test runs it as one)."""
    return statement_imports_round(kontor, logging.getLogger("tests.statements"))


def imported(kontor, api, content: bytes, filename: str = "statement.xml") -> dict:
    """Upload, import, and the statement with its lines as the API shows it."""
    statement = upload(api, content, filename)
    assert statement["state"] == "received"
    import_waiting(kontor)
    return ok(api.get(f"/bank-statements/{statement['id']}", user="alma"))


def open_of(api, customer_id: int, user: str = "alma") -> dict:
    """{invoice number: open amount} and the customer's sums."""
    found = ok(api.get(f"/open-items?customer_id={customer_id}", user=user))
    [group] = found["customers"] or [{"items": [], "open_total": "0.00", "credit": "0.00"}]
    return {"items": {item["number"]: item["open_amount"] for item in group["items"]},
            "open_total": group["open_total"], "credit": group["credit"]}
