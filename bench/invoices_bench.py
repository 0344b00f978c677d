"""Invoices at volume: 1,000 released invoices (3 lines each) issued end to end by the worker as it
runs by default (its loop and KONTOR_WORKER_PROCESSES - 1 helper processes, a real Prefect server,
every round a flow run): number, validated
e-invoice XML, PDF/A-3b with the XML inside, both stored, mail queued (and sent over SMTP to the local
Dovecot, as the worker does). Then the cost of one invoice split into its steps, in-process; the
render time of a 100-line invoice; and a 10,000-line bank statement matched."""
from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select

from bench.common import peak_rss_mib, stopwatch, summary_ms
from bench.invoice_setup import ACCOUNTS, catalog, draft_ids, invoice_of, released_drafts
from domain.einvoicing.generate import invoice_xml
from domain.einvoicing.hybrid_pdf import embed_invoice_xml
from domain.einvoicing.validation import ensure_valid
from domain.invoicing import document
from domain.invoicing.einvoice import einvoice_of, flavour_of
from domain.invoicing.files import file_of, issue_with_files, keep_file
from domain.invoicing.issuing import EInvoiceFile, issue_invoice
from domain.invoicing.models import Invoice, InvoiceDocument
from domain.letters.render import render_pdf
from domain.settings import company_today
from flows.rounds import Rounds
from flows.worker import start_worker_thread
from flows.worker_processes import WorkerProcesses
from kernel.clock import utcnow
from kernel.documents import DocumentStore
from mailers.local_servers import LocalMail
from mailers.outbox import OutboxMail
from runtime.models import Incident, ServiceJob
from runtime.workers import Worker

OPERATIONS = ("invoicing.issue", "invoicing.render_pdf", "invoicing.send")


class TimedRounds(Rounds):
    """The worker's rounds as they run, each timed by kind (service jobs, outbox, timers)."""

    def __init__(self, kontor):
        super().__init__(kontor)
        self.seconds: dict[str, list[float]] = defaultdict(list)

    def run(self, kind, flow, work):
        start = time.perf_counter()
        try:
            return super().run(kind, flow, work)
        finally:
            self.seconds[kind].append(time.perf_counter() - start)


def _timed_operations(kontor) -> tuple[dict[str, list[float]], dict]:
    """Wrap the invoice operations to time each run; (times by operation, the originals to put back)."""
    registry = kontor.runtime.operations
    times: dict[str, list[float]] = {name: [] for name in OPERATIONS}
    originals = {name: registry.get(name) for name in OPERATIONS}
    for name in OPERATIONS:
        def timed(params, job, _operation=originals[name], _times=times[name]):
            start = time.perf_counter()
            try:
                return _operation(params, job)
            finally:
                _times.append(time.perf_counter() - start)
        registry.register(name, timed)
    return times, originals


def _progress(kontor, ids: list[int]) -> dict:
    with kontor.transaction() as session:
        issued = session.scalar(select(func.count()).select_from(Invoice).where(Invoice.id.in_(ids),
                                                                                Invoice.status == "issued"))
        pdfs = session.scalar(select(func.count()).select_from(InvoiceDocument).where(
            InvoiceDocument.invoice_id.in_(ids), InvoiceDocument.kind == "pdf"))
        mails = dict(session.execute(select(OutboxMail.state, func.count()).where(
            OutboxMail.record_type == "invoice", OutboxMail.record_id.in_(ids)).group_by(OutboxMail.state)).all())
        incidents = session.scalar(select(func.count()).select_from(Incident))
    return {"issued": issued, "pdf": pdfs, "queued": sum(mails.values()), "mail": mails, "incidents": incidents}


def _wait_for_workers(kontor, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with kontor.transaction() as session:
            present = session.scalar(select(func.count()).select_from(Worker))
        if present >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} helper worker processes not present within {timeout:.0f} s")
        time.sleep(0.2)


def _jobs_by_worker(kontor, since) -> dict[str, int]:
    """Service jobs done since the clock started, by the worker that claimed them."""
    with kontor.transaction() as session:
        claims = session.execute(select(ServiceJob.claimed_by, func.count()).where(
            ServiceJob.state == "done", ServiceJob.finished_at >= since).group_by(ServiceJob.claimed_by)).all()
    by_worker: dict[str, int] = defaultdict(int)
    for claimant, count in claims:
        by_worker[(claimant or "?").split(":")[0]] += count
    return dict(by_worker)


def invoices_end_to_end(kontor, count: int = 1000, customers: int = 20, timeout: float = 1800) -> dict:
    """`count` released drafts, then the worker (default settings, real Prefect) until every one is
    issued, rendered and its mail queued. Prefect's server must be running (run.py starts one). The
    helper processes start first and the clock when they are present (a worker runs before invoices
    are released); the operations are timed in the main process only (its share of them)."""
    made = catalog(kontor, customers)
    with stopwatch() as setting_up:  # the release's try of the issue is left out: the worker's issue validates
        ids = released_drafts(kontor, made, count, checked=False)
    with kontor.transaction() as session:
        ready = session.scalar(select(func.count()).select_from(ServiceJob).where(ServiceJob.state == "ready"))
    servers = LocalMail.start(Path(tempfile.mkdtemp(prefix="kontor-bench-invoice-mail-")))
    smtp_port, kontor.settings.smtp_port = kontor.settings.smtp_port, servers.smtp.port
    times, originals = _timed_operations(kontor)
    rounds = TimedRounds(kontor)
    helpers = WorkerProcesses(kontor.settings).start()
    _wait_for_workers(kontor, helpers.count)
    thread, stop = start_worker_thread(kontor, rounds=rounds)
    try:
        since = utcnow()
        with stopwatch() as took:
            deadline = time.monotonic() + timeout
            while True:
                seen = _progress(kontor, ids)
                if seen["queued"] >= count or seen["incidents"] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
    finally:
        stop.set()
        helpers.stop()
        thread.join(timeout=60)
        for name, operation in originals.items():
            kontor.runtime.operations.register(name, operation)
        kontor.settings.smtp_port = smtp_port
        servers.stop()
    seen = _progress(kontor, ids)
    if seen["queued"] < count:
        raise RuntimeError(f"the worker did not finish {count} invoices within {timeout:.0f} s: {seen}")
    wall = took()
    busy = {name: round(sum(values), 1) for name, values in times.items()}
    in_rounds = {kind: {"rounds": len(values), "seconds": round(sum(values), 1)}
                 for kind, values in rounds.seconds.items()}
    return {
        "invoices": count, "customers": customers, "setup_s": round(setting_up(), 1), "jobs_ready_at_start": ready,
        "seconds": round(wall, 1), "invoices_per_s": round(count / wall, 2), "done": seen,
        "batch_size": kontor.settings.job_batch_size, "worker_processes": helpers.count + 1,
        "jobs_by_worker": _jobs_by_worker(kontor, since),
        "per_operation": {name.split(".")[1]: {**summary_ms(values), "total_s": busy[name]}
                          for name, values in times.items() if values},
        "worker_rounds": in_rounds,
        "outside_operations_s": round(wall - sum(busy.values()), 1),
    }


def _warm(kontor, invoice_id: int) -> None:
    """Rule sets compiled, fonts loaded, templates parsed: one invoice issued and rendered unmeasured."""
    with kontor.transaction() as session:
        invoice = issue_with_files(session, kontor, ACCOUNTS, invoice_id)
        html = document.invoice_html(session, kontor.settings, invoice)
        xml = DocumentStore.under(kontor.settings.data_dir).load(session, file_of(session, invoice.id, "xml"))[2]
    document.render_invoice_pdf(html, xml, invoice.language, document.pdf_filename(invoice))


def cost_split(kontor, count: int = 50, customers: int = 5) -> dict:
    """Each step of one invoice, in-process, over `count` invoices: the issue (number and rows: the
    transaction less what follows), XML generation, validation (XSD + CEN + Factur-X profile), the
    XML stored, the HTML, the PDF/A-3b render, embedding the XML, the PDF stored (store + rows + commit)."""
    made = catalog(kontor, customers)
    ids = draft_ids(kontor, made, count + 1)
    _warm(kontor, ids.pop())
    store = DocumentStore.under(kontor.settings.data_dir)
    steps: dict[str, list[float]] = defaultdict(list)

    def timed(step: str, action, *args, **kwargs):
        start = time.perf_counter()
        result = action(*args, **kwargs)
        steps[step].append(time.perf_counter() - start)
        return result

    def make(session, invoice, lines) -> EInvoiceFile:  # what domain.invoicing.einvoice.make_einvoice does
        flavour = flavour_of(invoice)
        xml = timed("xml", lambda: invoice_xml(einvoice_of(session, invoice, lines), flavour))
        timed("validation", ensure_valid, xml, flavour)
        return EInvoiceFile(f"{invoice.number}.xml", "application/xml", xml)

    def keep(session, invoice, file) -> None:
        timed("store_xml", keep_file, session, store, kontor.document_owners, invoice, "xml", file)

    for invoice_id in ids:
        begun = time.perf_counter()
        with kontor.transaction() as session:
            invoice = issue_invoice(session, ACCOUNTS, invoice_id, kontor.settings, company_today(kontor.settings),
                                    make_einvoice=make, keep_file=keep)
            xml = store.load(session, file_of(session, invoice.id, "xml"))[2]
        issue_all = time.perf_counter() - begun
        steps["issue_db"].append(issue_all - steps["xml"][-1] - steps["validation"][-1] - steps["store_xml"][-1])
        with kontor.transaction() as session:
            invoice = invoice_of(session, invoice_id)
            html = timed("html", document.invoice_html, session, kontor.settings, invoice)
            language, filename = invoice.language, document.pdf_filename(invoice)
        pdf = timed("render", render_pdf, html, pdf_variant="pdf/a-3b")
        pdf = timed("embed", embed_invoice_xml, pdf, xml, language=language, title=filename)
        begun = time.perf_counter()
        with kontor.transaction() as session:
            keep_file(session, store, kontor.document_owners, invoice_of(session, invoice_id), "pdf",
                      EInvoiceFile(filename, "application/pdf", pdf))
        steps["store_pdf"].append(time.perf_counter() - begun)
    totals = [sum(values[n] for values in steps.values()) for n in range(count)]
    return {"invoices": count, **{step: summary_ms(values) for step, values in steps.items()},
            "total": summary_ms(totals)}


def hundred_lines(kontor, rounds: int = 8, lines: int = 100) -> dict:
    """A `lines`-line invoice, issued through the domain, rendered warm: the HTML alone, HTML + PDF/A-3b,
    HTML + PDF/A-3b with the XML embedded (the variants alternate round by round, so that a busy moment
    of the machine weighs on all alike)."""
    made = catalog(kontor, 1)
    [invoice_id] = draft_ids(kontor, made, 1, lines=lines)
    store = DocumentStore.under(kontor.settings.data_dir)
    with kontor.transaction() as session:
        invoice = issue_with_files(session, kontor, ACCOUNTS, invoice_id)
        xml = store.load(session, file_of(session, invoice.id, "xml"))[2]
        language, filename = invoice.language, document.pdf_filename(invoice)

    def html() -> str:
        with kontor.transaction() as session:
            return document.invoice_html(session, kontor.settings, invoice_of(session, invoice_id))

    variants = {"html": lambda: html(),
                "html_pdfa3b": lambda: document.render_invoice_pdf(html(), None, language, filename),
                "html_pdfa3b_with_xml": lambda: document.render_invoice_pdf(html(), xml, language, filename)}
    for action in variants.values():
        action()  # warm
    durations: dict[str, list[float]] = {name: [] for name in variants}
    pages = 0
    for _ in range(rounds):
        for name, action in variants.items():
            with stopwatch() as elapsed:
                result = action()
            durations[name].append(elapsed())
            if name == "html_pdfa3b_with_xml":
                pages = result.count(b"/Type /Page\n") or result.count(b"/Type /Page")
    return {"lines": lines, "pages": pages, **{name: summary_ms(values) for name, values in durations.items()}}


def invoices_section(kontor, count: int) -> dict:
    """The whole section; Prefect's server must be running for the end-to-end part."""
    from bench.runtime_bench import reference_speed
    from bench.statement_matching_bench import statement_matching

    out = {"machine_speed_before": reference_speed()}
    out["end_to_end"] = invoices_end_to_end(kontor, count)
    out["machine_speed_after"] = reference_speed()
    speed = (out["machine_speed_before"]["speed"] + out["machine_speed_after"]["speed"]) / 2
    out["end_to_end"]["at_usual_speed_s"] = round(out["end_to_end"]["seconds"] * speed, 1)  # what a quiet machine gives
    out["cost_split"] = cost_split(kontor)
    out["hundred_lines"] = hundred_lines(kontor)
    out["statement_matching"] = statement_matching()
    out["peak_rss_mib"] = peak_rss_mib()
    return out
