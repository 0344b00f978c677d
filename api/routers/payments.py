"""Payments, bank statements and open items (thin: read the request, call the domain)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from api.deps import CurrentUser, KontorDep, SessionDep
from api.error_responses import ErrorOut
from api.params import OptionalId, RecordId, paging
from api.payment_schemas import (
    AllocationOut,
    CreditAppliedOut,
    CreditApplyIn,
    CreditUseOut,
    CurrencyTotalOut,
    CustomerOpenItemsOut,
    ImportState,
    OpenItemOut,
    OpenItemsOut,
    PaymentIn,
    PaymentOut,
    StatementDetailOut,
    StatementLineOut,
    StatementOut,
)
from api.schemas import Page
from domain.payments import commands, credits, imports, queries
from domain.payments.matching import REASONS
from domain.settings import company_today
from kernel.clock import utcnow
from kernel.documents import DocumentStore

router = APIRouter(prefix="/payments", tags=["payments"])
statements_router = APIRouter(prefix="/bank-statements", tags=["payments"])
open_items_router = APIRouter(prefix="/open-items", tags=["payments"])
credit_router = APIRouter(prefix="/invoices", tags=["payments"])
PaymentPage = paging("-booking_date", *queries.PAYMENT_SORTS)
StatementPage = paging("-uploaded_at", *queries.STATEMENT_SORTS)
NO_STATEMENTS: dict = {404: {"model": ErrorOut, "description": "For a portal user there are no bank statements"}}


def payment_out(view: queries.PaymentView) -> PaymentOut:
    p = view.payment
    return PaymentOut(id=p.id, customer_id=p.customer_id, amount=p.amount, currency=p.currency,
                      booking_date=p.booking_date, source=p.source, reference=p.reference,
                      statement_line_id=p.statement_line_id, created_by=p.created_by, created_at=p.created_at,
                      allocations=[AllocationOut.model_validate(a) for a in view.allocations], credit=view.credit)


@router.post("", response_model=PaymentOut, status_code=201,
             summary="Record a payment: with allocations to invoices, or allocated by the invoice numbers in its "
                     "reference; what no invoice takes is the customer's credit")
def record(body: PaymentIn, session: SessionDep, user: CurrentUser):
    allocations = None if body.allocations is None else [
        commands.AllocationRequest(a.invoice_id, a.amount, a.skonto) for a in body.allocations]
    payment = commands.record_payment(session, user, customer_id=body.customer_id, amount=body.amount,
                                      currency=body.currency, booking_date=body.booking_date, source=body.source,
                                      reference=body.reference, allocations=allocations, today=utcnow().date())
    return payment_out(queries.views_of(session, [payment])[0])


@router.get("", response_model=Page[PaymentOut], summary="Payments with their allocations: filter, sort, page")
def list_(session: SessionDep, user: CurrentUser, page: PaymentPage, customer_id: OptionalId = None):
    views, total = queries.list_payments(session, user, page, customer_id)
    return Page(items=[payment_out(v) for v in views], total=total, limit=page.limit, offset=page.offset)


@statements_router.post("", response_model=StatementOut, status_code=202, responses=NO_STATEMENTS,
                        summary="Upload a bank statement (CAMT.053 or MT940, multipart): checked at once (422 "
                                "naming what is wrong), booked in the background; lines imported before are "
                                "left alone")
async def upload(session: SessionDep, user: CurrentUser, kontor: KontorDep, file: Annotated[UploadFile, File()]):
    limit = kontor.settings.document_max_bytes
    content = await file.read(limit + 1)  # never more than one byte past the limit in memory
    return imports.receive_statement(session, DocumentStore.under(kontor.settings.data_dir), kontor.document_owners,
                                     user, file.filename or "", content, limit)


@statements_router.get("", response_model=Page[StatementOut], responses=NO_STATEMENTS,
                       summary="Uploaded bank statements, newest first")
def statements(session: SessionDep, user: CurrentUser, page: StatementPage, state: ImportState | None = None):
    rows, total = queries.list_statements(session, user, page, state)
    return Page(items=[StatementOut.model_validate(r) for r in rows], total=total, limit=page.limit,
                offset=page.offset)


@statements_router.get("/{statement_id}", response_model=StatementDetailOut,
                       summary="A bank statement with its lines: what each line's matching decided and why")
def statement(statement_id: RecordId, session: SessionDep, user: CurrentUser):
    row, lines = queries.statement_with_lines(session, user, statement_id)
    return StatementDetailOut(**StatementOut.model_validate(row).model_dump(), lines=[
        StatementLineOut.model_validate(line).model_copy(
            update={"reason_text": REASONS[line.reason][1] if line.reason in REASONS else None}) for line in lines])


@open_items_router.get("", response_model=OpenItemsOut,
                       summary="Open invoices per customer with what is open, due and overdue (portal users: "
                               "their own)")
def open_items(session: SessionDep, user: CurrentUser, customer_id: OptionalId = None,
               overdue: bool | None = None):
    groups = queries.open_items(session, user, utcnow().date(), customer_id, overdue)
    return OpenItemsOut(
        customers=[CustomerOpenItemsOut(
            customer_id=g.customer_id, currency=g.currency, open_total=g.open_total, due_total=g.due_total,
            overdue_total=g.overdue_total, credit=g.credit,
            items=[OpenItemOut(invoice_id=b.invoice_id, number=b.number, issue_date=b.issue_date,
                               due_date=b.due_date, amount_due=b.amount_due, paid=b.paid, skonto=b.skonto,
                               credited=b.credited, open_amount=b.open_amount, days_overdue=b.days_overdue,
                               due=b.is_due, overdue=b.is_overdue) for b in g.items]) for g in groups],
        totals=[CurrencyTotalOut(currency=t.currency, open_total=t.open_total, due_total=t.due_total,
                                 overdue_total=t.overdue_total) for t in queries.currency_totals(groups)])


@credit_router.post("/{invoice_id}/apply-credit", response_model=CreditAppliedOut,
                    summary="Settle an issued invoice with the customer's credit from over-payments (oldest first)")
def apply_credit(invoice_id: RecordId, body: CreditApplyIn, session: SessionDep, kontor: KontorDep,
                 user: CurrentUser):
    done = credits.apply_credit(session, user, invoice_id, body.amount, company_today(kontor.settings))
    return CreditAppliedOut(invoice_id=done.invoice_id, number=done.number, currency=done.currency,
                            applied=done.applied, used=[CreditUseOut(payment_id=p, amount=a) for p, a in done.used],
                            open_amount=done.open_amount, credit_left=done.credit_left)
