"""What Kontor's processes write to the console. At INFO an operator sees what Kontor does (started,
listening, worker rounds that failed, Prefect lost and back, incidents) and nothing of the libraries'
chatter: every HTTP request the Prefect client makes (httpx), SpiffWorkflow's "State changed" per
task, Alembic's migration banner, Prefect's "Created flow run …" per run (the runs, their log lines
and their state are in Prefect's UI, which keeps getting every line). KONTOR_LOG_LEVEL=DEBUG shows
all of it."""
from __future__ import annotations

import logging
import os

# Libraries whose INFO lines are details of how Kontor works, not what it does.
CHATTY = ("httpx", "httpcore", "spiff", "SpiffWorkflow", "alembic", "asyncio", "aiosmtplib", "imapclient",
          "mail.log", "weasyprint", "fontTools", "PIL", "multipart", "factur-x")
# Prefect's console handler: its flow-run lines go to Prefect's API (and UI) in any case.
PREFECT_CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"


def configure_logging(level: str = "INFO", one_shot: bool = False) -> None:
    """Set the console up once per process, before Prefect is imported (it reads its logging
    settings from the environment when it is). A one-shot command (`kontor user …`, `migrate`)
    prints its result and, below DEBUG, only warnings and errors besides."""
    wanted = logging.getLevelName(level.upper())
    if one_shot and wanted > logging.DEBUG:
        wanted = max(wanted, logging.WARNING)
    logging.basicConfig(level=wanted, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(wanted)
    quiet = max(wanted, logging.WARNING) if wanted > logging.DEBUG else logging.DEBUG
    for name in CHATTY:
        logging.getLogger(name).setLevel(quiet)
    os.environ.setdefault(PREFECT_CONSOLE_LEVEL, logging.getLevelName(quiet))
    if wanted > logging.DEBUG:
        logging.getLogger("uvicorn.access").addFilter(_not_a_probe)
        for handler in logging.getLogger().handlers:
            handler.addFilter(_not_a_flow_run_detail)


def route_server_lines_to_console() -> None:
    """uvicorn's lines (listening, requests) through the console configure_logging set up: Prefect's
    logging configuration (applied when it is imported) gives the `uvicorn` logger a handler of its own
    at WARNING; `kontor serve` runs uvicorn without a logging configuration of its own (it would
    reconfigure logging while the worker thread logs)."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


PROBES = ("/health", "/healthz", "/ready")
RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


def _not_a_flow_run_detail(record: logging.LogRecord) -> bool:
    """A flow run's INFO lines (begun, a job done, finished) are in Prefect's UI with the run; the
    console keeps its warnings and errors."""
    return record.levelno >= logging.WARNING or not record.name.startswith(RUN_LOGGERS)


def _not_a_probe(record: logging.LogRecord) -> bool:
    """Load balancers ask /health every few seconds: an access line each would bury the rest."""
    args = record.args if isinstance(record.args, tuple) else ()
    path = str(args[2]) if len(args) > 2 else ""
    return path.split("?", 1)[0] not in PROBES
