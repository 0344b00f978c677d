"""A request's unit of work commits before its answer is sent: a commit that fails is answered
as the failure it is, never as a success the database did not keep (and a client that reads
right after its write finds it). On SQLite and PostgreSQL, through the API."""
from __future__ import annotations

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from runtime.models import ProcessInstance


_STARTED = select(func.count()).select_from(ProcessInstance)


def _instances_with(kontor, request_id: str) -> int:
    with kontor.transaction() as session:
        return session.scalar(_STARTED.where(ProcessInstance.variables["request_id"].as_string() == request_id))


def test_a_write_whose_commit_fails_is_answered_as_a_failure(api, kontor):
    def fail_the_start(session: Session) -> None:
        if session.scalar(_STARTED.where(ProcessInstance.variables["request_id"].as_string() == "UOW-1")):
            raise OperationalError("COMMIT", {}, Exception("the database went away at commit"))

    event.listen(kontor.sessions, "before_commit", fail_the_start)
    try:
        response = api.post("/process-instances", {"process": "demo_request",
                                                   "data": {"amount": 250, "request_id": "UOW-1"}}, user="sam")
    finally:
        event.remove(kontor.sessions, "before_commit", fail_the_start)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    assert _instances_with(kontor, "UOW-1") == 0
