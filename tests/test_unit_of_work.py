"""A request's unit of work commits before its answer is sent: a commit that fails is answered
as the failure it is, never as a success the database did not keep (and a client that reads
right after its write finds it). On SQLite and PostgreSQL, through the API, with the database's own
COMMIT failing: on PostgreSQL a deferred constraint trigger refuses the new instance at COMMIT with a
serialization failure (SQLSTATE 40001, what a serializable commit meets); on SQLite a foreign key
checked only at COMMIT (PRAGMA defer_foreign_keys) is violated, so COMMIT fails with an integrity error."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from runtime.models import ProcessInstance

_STARTED = select(func.count()).select_from(ProcessInstance)
REQUEST_ID = "UOW-1"


def _instances_with(kontor, request_id: str) -> int:
    with kontor.transaction() as session:
        return session.scalar(_STARTED.where(ProcessInstance.variables["request_id"].as_string() == request_id))


@contextmanager
def commit_refusing_the_start(kontor):
    """The COMMIT of the transaction that started the instance for REQUEST_ID fails."""
    if kontor.engine.dialect.name == "postgresql":
        with kontor.engine.begin() as connection:
            connection.execute(text(f"""
                CREATE FUNCTION test_refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.variables->>'request_id' = '{REQUEST_ID}' THEN
                    RAISE EXCEPTION 'refused at commit' USING ERRCODE = '40001';
                  END IF;
                  RETURN NULL;
                END $$"""))
            connection.execute(text("CREATE CONSTRAINT TRIGGER test_refuse_at_commit AFTER INSERT ON process_instance "
                                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                                    "EXECUTE FUNCTION test_refuse_at_commit()"))
        try:
            yield
        finally:
            with kontor.engine.begin() as connection:
                connection.execute(text("DROP TRIGGER test_refuse_at_commit ON process_instance"))
                connection.execute(text("DROP FUNCTION test_refuse_at_commit()"))
        return

    def dangle_a_foreign_key(session: Session) -> None:  # nothing raises here: the COMMIT does
        if session.scalar(_STARTED.where(ProcessInstance.variables["request_id"].as_string() == REQUEST_ID)):
            connection = session.connection()
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            connection.exec_driver_sql("INSERT INTO audit_event (instance_id, kind, actor, at, details) "
                                       "VALUES (2147483000, 'dangling', 'test', '2026-01-01 00:00:00', '{}')")

    event.listen(kontor.sessions, "before_commit", dangle_a_foreign_key)
    try:
        yield
    finally:
        event.remove(kontor.sessions, "before_commit", dangle_a_foreign_key)


def test_a_write_whose_commit_fails_is_answered_as_a_failure(api, kontor):
    failures = []

    def seen(context):
        failures.append((context.statement, type(context.sqlalchemy_exception).__name__))

    api.token("sam")
    event.listen(kontor.engine, "handle_error", seen)
    try:
        with commit_refusing_the_start(kontor):
            response = api.post("/process-instances", {"process": "demo_request",
                                                       "data": {"amount": 250, "request_id": REQUEST_ID}}, user="sam")
    finally:
        event.remove(kontor.engine, "handle_error", seen)
    assert [statement for statement, _ in failures] == [None], failures  # only the COMMIT failed (no statement)
    if kontor.engine.dialect.name == "postgresql":
        assert response.status_code == 503, response.text  # a serialization failure: try again
        assert response.json()["error"]["code"] == "unavailable" and response.headers["retry-after"]
    else:
        assert response.status_code == 409, response.text  # the data clashed
        assert response.json()["error"]["code"] == "conflict"
    assert _instances_with(kontor, REQUEST_ID) == 0
    started = api.post("/process-instances", {"process": "demo_request",
                                              "data": {"amount": 250, "request_id": "UOW-2"}}, user="sam")
    assert started.status_code == 201, started.text  # the connection of the failed commit serves on
    assert _instances_with(kontor, "UOW-2") == 1
