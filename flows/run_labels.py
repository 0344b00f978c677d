"""Names and tags of Kontor's flow runs, so that ops find a run by what it did and by the records it
touched: a run of service jobs is renamed after its operations and records ("offers.render_pdf
OFF-2026-0001") and tagged `offer:OFF-2026-0001`, `operation:offers.render_pdf`; outbox runs after
their mails, timer runs after the timers, mailbox runs after the mailboxes. Every run also carries
the tag `kontor`.

A run is named when it starts (`flow_run_name`, what kind of work) and renamed once its work is
known; the rename is one call to Prefect, made only inside a flow run. A rename that fails is logged
and changes nothing else: the work's outcome never depends on it."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from uuid import UUID

log = logging.getLogger("kontor.worker")

MAX_NAME = 200
MAX_TAGS = 30  # a batch that touched more records keeps the first ones (the log lines name them all)


def summary_name(kind: str, items: list[str], records: list[str]) -> str:
    """`offers.render_pdf OFF-2026-0001` for one item; `3 jobs: offers.render_pdf ×2, offers.send
    (OFF-2026-0001, OFF-2026-0002)` for more. `kind` is what an item is called in plural ("jobs")."""
    labels = [record.split(":", 1)[-1] for record in records]
    if len(items) == 1:
        text = " ".join([items[0], *labels])
    else:
        counted: dict[str, int] = {}
        for item in items:
            counted[item] = counted.get(item, 0) + 1
        what = ", ".join(f"{item} ×{n}" if n > 1 else item for item, n in counted.items())
        text = f"{len(items)} {kind}: {what}" + (f" ({', '.join(labels)})" if labels else "")
    return text if len(text) <= MAX_NAME else text[:MAX_NAME - 1] + "…"


def tags_of(records: Iterable[str], *extra: str) -> list[str]:
    """`kontor`, then the records and the extra tags, each once, in order."""
    tags: list[str] = ["kontor"]
    for tag in [*records, *extra]:
        if tag and tag not in tags:
            tags.append(tag[:100])
    return tags[:MAX_TAGS]


def label_this_run(name: str, tags: list[str]) -> bool:
    """Rename and tag the flow run this code runs in (False outside a flow run or when Prefect refused)."""
    from prefect.client.orchestration import SyncPrefectClient, get_client
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return False
    run = context.flow_run
    merged = list(dict.fromkeys([*(run.tags or []), *tags]))
    try:
        if isinstance(context.client, SyncPrefectClient):  # the run's own client: its connection is open
            context.client.update_flow_run(UUID(str(run.id)), name=name, tags=merged)
        else:
            with get_client(sync_client=True) as client:
                client.update_flow_run(UUID(str(run.id)), name=name, tags=merged)
    except Exception as exc:  # noqa: BLE001 - a label is for ops' convenience; the work is done either way
        log.warning("flow run %s could not be renamed to %r: %s", run.id, name, exc)
        return False
    return True
