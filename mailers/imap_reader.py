"""Reading a mailbox over IMAP (imapclient): every message not yet marked as taken in, by UID, fetched
in chunks, one transaction per chunk; the mark (a keyword, and \\Seen) is set on the server only after
the commits of its chunk. A crash in between leaves the message unmarked: the next round finds its
Message-ID stored already and only marks it, so nothing is taken in twice. A message that cannot be
taken in at all is kept in quarantine with the error, never dropped."""
from __future__ import annotations

import logging
import ssl
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from imapclient import IMAPClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from kernel.db import transaction
from kernel.documents import DocumentStore
from mailers.inbound_models import InboundMail
from mailers.intake import ChunkKnowledge, Mailbox, take_in
from mailers.parse import clean, content_id, parse
from mailers.routes import MailRoutes
from mailers.settings import MailboxConfig, MailSettings
from runtime.runtime import ProcessRuntime

TAKEN_IN = "KontorTakenIn"  # the IMAP keyword of messages Kontor has stored


@dataclass
class ReadSummary:
    mailbox: str
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def as_dict(self) -> dict:
        return {"mailbox": self.mailbox, **self.outcomes}


def connect(config: MailboxConfig, timeout: float = 30) -> IMAPClient:
    client = IMAPClient(config.host, config.port, ssl=config.security == "tls", timeout=timeout,
                        ssl_context=ssl.create_default_context() if config.security == "tls" else None)
    if config.security == "starttls":
        client.starttls(ssl.create_default_context())
    client.login(config.username, config.password.get_secret_value())
    return client


def read_mailbox(factory: sessionmaker, runtime: ProcessRuntime, settings: MailSettings, routes: MailRoutes,
                 config: MailboxConfig, limit: int | None = None,
                 log: logging.Logger | logging.LoggerAdapter | None = None, after_commit=None) -> ReadSummary:
    """`after_commit(uid)` runs between a chunk's commit and its mark (tests use it to stand for a crash)."""
    log = log or logging.getLogger("kontor.mail")
    store = DocumentStore.under(settings.data_dir)
    mailbox = Mailbox(config.name, leads=config.purpose == "leads")
    summary = ReadSummary(config.name)
    with connect(config) as client, ThreadPoolExecutor(max(1, settings.inbound_workers)) as pool:
        client.select_folder(config.folder)
        uids = sorted(client.search(["UNKEYWORD", TAKEN_IN]))[:limit or settings.inbound_batch_size]
        sizes = {uid: data.get(b"RFC822.SIZE", 0) for uid, data in client.fetch(uids, ["RFC822.SIZE"]).items()} \
            if uids else {}
        in_flight: deque = deque()

        def finish() -> None:
            chunk, future = in_flight.popleft()
            for uid, outcome in future.result():
                summary.count(outcome)
                if after_commit is not None:
                    after_commit(uid)
            # Marked after the chunk's commit: a crash before this leaves stored messages unmarked,
            # which the next round recognises by their Message-ID and only marks.
            client.add_flags(chunk, [TAKEN_IN, b"\\Seen"])

        # The IMAP connection stays with this thread; the chunks are taken in by the pool, each in
        # its own transaction, while the next chunk is fetched.
        for chunk in _chunks(uids, sizes, settings.inbound_max_bytes):
            whole = [uid for uid in chunk if sizes.get(uid, 0) <= settings.inbound_max_bytes]
            bodies = client.fetch(whole, [b"BODY.PEEK[]"]) if whole else {}
            heads = client.fetch([u for u in chunk if u not in whole], [b"BODY.PEEK[HEADER]"]) \
                if len(whole) < len(chunk) else {}
            in_flight.append((chunk, pool.submit(_take_in_chunk, factory, runtime, settings, routes, store, mailbox,
                                                 chunk, whole, bodies, heads, sizes, log)))
            if len(in_flight) >= max(1, settings.inbound_workers):
                finish()
        while in_flight:
            finish()
    return summary


def _chunks(uids: list[int], sizes: dict[int, int], max_bytes: int, budget: int = 16 * 1024 * 1024,
            most: int = 50) -> list[list[int]]:
    """UIDs in groups fetched with one command each: at most `most` messages and about `budget` bytes."""
    chunks, current, used = [], [], 0
    for uid in uids:
        size = min(sizes.get(uid, 0), max_bytes)
        if current and (len(current) >= most or used + size > budget):
            chunks.append(current)
            current, used = [], 0
        current.append(uid)
        used += size
    if current:
        chunks.append(current)
    return chunks


def _take_in_chunk(factory, runtime, settings, routes, store, mailbox, chunk, whole, bodies, heads, sizes,
                   log) -> list[tuple[int, str]]:
    """One transaction for the chunk. First without savepoints (the common case: every message goes
    in); if one fails, the chunk is rolled back and done again with a savepoint per message, so that
    the failing one is rolled back alone and kept in quarantine with the error."""
    messages = []
    for uid in chunk:
        oversized = uid not in whole
        raw = (heads if oversized else bodies).get(uid, {}).get(b"BODY[HEADER]" if oversized else b"BODY[]")
        if raw is not None:  # None: expunged meanwhile
            messages.append((uid, raw, oversized, sizes.get(uid, 0), parse(raw)))
    try:
        lines = _take_in_all(factory, runtime, settings, routes, store, mailbox, messages, careful=False)
    except Exception:  # noqa: BLE001 - nothing of the chunk was committed; the careful way finds the culprit
        lines = _take_in_all(factory, runtime, settings, routes, store, mailbox, messages, careful=True)
    outcomes = []
    for uid, outcome, level, line in lines:  # logged after the commit: only what holds
        log.log(level, line)
        outcomes.append((uid, outcome))
    return outcomes


def _take_in_all(factory, runtime, settings, routes, store, mailbox, messages, careful: bool) -> list:
    lines = []
    with transaction(factory) as session:
        known = ChunkKnowledge.of(session, [m[-1].message_id for m in messages],
                                  sorted({m[-1].sender for m in messages if m[-1].sender}))
        for uid, raw, oversized, size, parsed in messages:
            if not careful:
                mail, new = take_in(session, runtime, settings, routes, store, mailbox, uid, raw, size, oversized,
                                    parsed=parsed, known=known)
            else:
                try:
                    with session.begin_nested():
                        mail, new = take_in(session, runtime, settings, routes, store, mailbox, uid, raw, size,
                                            oversized, parsed=parsed, known=known)
                except IntegrityError as exc:
                    if session.scalar(select(InboundMail.id).where(InboundMail.message_id == parsed.message_id)):
                        lines.append((uid, "duplicate", logging.INFO, f"mail uid {uid}: stored by another reader"))
                        continue
                    _keep_failed(session, store, mailbox, uid, raw, size, exc)
                    lines.append((uid, "quarantined", logging.ERROR, f"mail uid {uid} of {mailbox.name} could not "
                                                                     f"be taken in: {type(exc).__name__}: {exc}"))
                    continue
                except Exception as exc:  # noqa: BLE001 - whatever went wrong, the message is kept and shown
                    _keep_failed(session, store, mailbox, uid, raw, size, exc)
                    lines.append((uid, "quarantined", logging.ERROR, f"mail uid {uid} of {mailbox.name} could not "
                                                                     f"be taken in: {type(exc).__name__}: {exc}"))
                    continue
            outcome = mail.state if new else "duplicate"
            lines.append((uid, outcome, logging.INFO, f"mail {mail.id} (uid {uid}) from {mail.sender}: {outcome} "
                                                      f"via {mail.route}" + (f" ({mail.reason})" if mail.reason and new
                                                                             else "")))
    return lines


def _keep_failed(session, store, mailbox, uid, raw, size, exc) -> None:
    """Keep a message that could not be taken in, by its content hash, with nothing read from it that
    could fail again; in its own savepoint, so that even this cannot take the chunk down."""
    message_id = content_id(raw)
    try:
        with session.begin_nested():
            if session.scalar(select(InboundMail.id).where(InboundMail.message_id == message_id)) is None:
                session.add(InboundMail(mailbox=mailbox.name, uid=uid, message_id=message_id, size=size,
                                        raw_sha256=store.put(raw), state="quarantined", route="quarantine",
                                        reason=clean(f"could not be taken in: {type(exc).__name__}: {exc}", 500)))
    except Exception:  # noqa: BLE001 - left unmarked on the server: tried again, and reported, next round
        logging.getLogger("kontor.mail").exception("mail uid %s of %s could not even be kept", uid, mailbox.name)
