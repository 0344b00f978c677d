"""The process runtime's settings: where process models come from, how long messages wait, service
jobs and their backoff, timers, the workflow cache and a worker's identity and heartbeat
(runtime/workers.py), how long answers to idempotent requests are kept. It builds on the core
section because a worker keeps its name lock in the data folder."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator
from pydantic_settings import NoDecode

from kernel.settings import REPO_ROOT, CoreSettings, separated


class RuntimeSettings(CoreSettings):
    # `:`-separated like PATH (NoDecode: pydantic-settings would otherwise read the value as JSON).
    bpmn_path: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Extra folders with .bpmn/.dmn files, besides bpmn/, separated by ':'")
    builtin_bpmn_dir: Path = REPO_ROOT / "bpmn"

    # Messages that arrive before anybody waits for them are kept this long.
    message_ttl_seconds: int = 14 * 24 * 3600
    # Process data a client brings (start data, a message's data, a completed form), as JSON.
    process_data_max_bytes: int = Field(default=256 * 1024, ge=1024)

    # Service jobs: attempts and exponential backoff (base * 2**(attempt-1), capped).
    job_max_attempts: int = 3
    job_backoff_base_seconds: float = 2.0
    job_backoff_max_seconds: float = 3600.0
    job_lease_seconds: int = 300
    job_batch_size: int = 50
    # The outcomes of quick jobs run one after another are recorded together, in one transaction,
    # while they finish within this many seconds of each other (0: each in its own transaction).
    job_outcome_group_seconds: float = Field(default=0.1, ge=0)

    # A worker's identity (default: the host's name; see runtime/workers.py). Claimed jobs and mail
    # name it; a worker that sends no heartbeat for worker_stale_seconds is taken for dead and its
    # claims are free, and one started again under the same name takes its claims back at once.
    worker_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._@-]{1,60}$")
    worker_heartbeat_seconds: float = Field(default=2.0, gt=0)
    worker_stale_seconds: float = Field(default=10.0, gt=0)
    timer_batch_size: int = 100
    # Workflows of this many recently stepped instances stay in memory between their steps (0: none).
    workflow_cache_size: int = Field(default=1000, ge=0)
    # Idempotency-Key (runtime/idempotency.py): an answer is replayed for this many hours after its
    # request, then forgotten; a running request renews its key's lease every third of
    # idempotency_lease_seconds, so a key whose request died (its process killed, its database
    # gone) is free again within that time.
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)
    idempotency_lease_seconds: int = Field(default=30, ge=1, le=3600)

    _split_bpmn_path = separated(":", "bpmn_path", item=Path)

    @model_validator(mode="after")
    def _a_live_worker_is_never_taken_for_dead(self) -> RuntimeSettings:
        if self.worker_stale_seconds < 2 * self.worker_heartbeat_seconds:
            raise ValueError("KONTOR_WORKER_STALE_SECONDS must be at least twice KONTOR_WORKER_HEARTBEAT_SECONDS")
        return self

    @property
    def bpmn_dirs(self) -> list[Path]:
        return [self.builtin_bpmn_dir, *self.bpmn_path]
