"""Operations of the demonstration process (bpmn/demo_request.bpmn): a budget office that
reserves money for purchase requests and refuses what exceeds its limit."""
from __future__ import annotations

import threading
from decimal import Decimal, InvalidOperation

from kernel.module import Module
from runtime.runtime import JobContext, OperationRegistry


class BudgetExceeded(Exception):
    pass


class BudgetOffice:
    """Reserves budget once per job key (a retried job does not reserve twice)."""

    def __init__(self, limit: Decimal = Decimal("50000")):
        self.limit = limit
        self.reservations: dict[str, dict] = {}
        self._lock = threading.Lock()

    def reserve(self, params: dict, job: JobContext) -> dict:
        try:
            amount = Decimal(str(params["amount"]))
        except (KeyError, InvalidOperation) as exc:
            raise ValueError(f"amount missing or not a number: {params.get('amount')!r}") from exc
        if amount > self.limit:
            raise BudgetExceeded(f"{amount} exceeds the budget limit of {self.limit}")
        with self._lock:
            reservation = self.reservations.get(job.job_key)
            if reservation is None:
                reservation = {"reservation_id": f"RB-{job.job_id:06d}", "amount": str(amount),
                               "request_id": params.get("request_id")}
                self.reservations[job.job_key] = reservation
        if params.get("request_id"):
            job.touched("request", str(params["request_id"]))
        job.log.info("reserved %s for request %s", amount, params.get("request_id"))
        return reservation


budget_office = BudgetOffice()


def register(operations: OperationRegistry) -> None:
    operations.register("demo.reserve_budget", budget_office.reserve)


def _wire(kontor) -> None:
    register(kontor.runtime.operations)


MODULE = Module(name="demo", wire=_wire)
