"""The instance row and the audit trail on the runtime's hot path, written with SQLAlchemy Core.

Every step of every instance reads and writes its row; the ORM's unit of work costs several
times the round trip itself there. These functions issue one statement each and keep the
ORM object of the instance in step (as if it had been loaded), so callers and the API still
work with `ProcessInstance` objects. The row is versioned: an update whose version no longer
matches raises Conflict (HTTP 409), so two concurrent steps of one instance never both count.
"""
from __future__ import annotations

import functools
import json
from contextlib import contextmanager

from sqlalchemy import bindparam, event, exists, insert, select, text, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from kernel.clock import utcnow
from kernel.driver_sql import Batch, DriverInsert, DriverResult, DriverStatement, pipeline
from kernel.errors import Conflict
from runtime.models import AuditEvent, ProcessDefinition, ProcessInstance

_INSTANCE = ProcessInstance.__table__
_AUDIT = AuditEvent.__table__
_COLUMNS = [column.key for column in _INSTANCE.columns]
# compiled once and run on the driver (see kernel.driver_sql)
_INSERT_AUDIT = DriverInsert(_AUDIT)
_UPDATE_INSTANCE = DriverStatement(update(_INSTANCE).where(_INSTANCE.c.id == bindparam("row_id"),
                                                           _INSTANCE.c.version == bindparam("row_version")))
_LOCK_INSTANCE = {skip: DriverStatement(select(_INSTANCE).where(_INSTANCE.c.id == bindparam("row_id"))
                                        .with_for_update(skip_locked=skip)) for skip in (False, True)}
CORRELATION_LOCKS = 0x4B4F  # PostgreSQL advisory lock namespace of the per-(message name, correlation) locks
_LOCK_CORRELATION = DriverStatement(text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"))


def jsonable(value):
    """Process data as plain JSON (Decimal and dates become text)."""
    return json.loads(json.dumps(value, default=str))


# ------------------------------------------------------------------ audit trail
def audit_event(instance_id: int | None, kind: str, actor: str, task_spec: str | None = None, **details) -> dict:
    """One audit row, to be written with others of the same step by write_events."""
    return {"instance_id": instance_id, "kind": kind, "actor": actor, "task_spec": task_spec,
            "details": jsonable(details), "at": utcnow()}


def write_events(session: Session, events: list[dict], batch: Batch | None = None) -> None:
    """The step's audit rows in one statement (or as a part of the step's batch)."""
    if batch is None:
        _INSERT_AUDIT.execute(core(session), events)
    else:
        batch.add_rows(core(session), _INSERT_AUDIT, events)


@contextmanager
def pipelined(session: Session):
    """A step's statements sent to PostgreSQL together (psycopg's pipeline mode): one round trip
    for all of them instead of one each. Their results (rows, row counts) are read after the
    block; reading one inside would send what is queued and wait for it. A failure surfaces when
    the block ends, as SQLAlchemy's error; the transaction (or the savepoint around the step) is
    then rolled back by its owner as usual. SQLite runs them one by one."""
    with pipeline(core(session)) as connection:  # (core() flushes pending ORM objects: they come first)
        yield connection


def audit(session: Session, instance_id: int | None, kind: str, actor: str, task_spec: str | None = None,
          **details) -> None:
    """Record one transition now (steps that save progress pass theirs to save_progress instead)."""
    write_events(session, [audit_event(instance_id, kind, actor, task_spec, **details)])


def lock_correlation(connection, message_name: str, correlation_key: str) -> None:
    """Serialize, on PostgreSQL, a message looking for its subscriber with an instance opening that
    subscription and looking for a buffered message: without it each could miss the other's
    uncommitted row, and the message would stay buffered. SQLite's writers are serialized already.
    (On the session's connection, see core(); held until the transaction ends; may be sent in a
    pipeline.)"""
    if connection.dialect.name == "postgresql":
        _LOCK_CORRELATION.execute(connection, {"space": CORRELATION_LOCKS, "key": f"{message_name}\x1f{correlation_key}"})


# ------------------------------------------------------------------ the instance row
def lock_instance(session: Session, instance_id: int, skip_locked: bool = False) -> ProcessInstance | None:
    """The instance row, locked for this transaction (PostgreSQL), as the session's ORM object."""
    row = _LOCK_INSTANCE[skip_locked].execute(core(session), {"row_id": instance_id}).first()
    return None if row is None else attach(session, row)


def attach(session: Session, values, model=ProcessInstance):
    """The ORM object for a row just read or written with Core (as if the ORM had loaded it);
    the session's own object if it has one already."""
    mapper = model.__mapper__
    columns = _COLUMNS if model is ProcessInstance else [column.key for column in model.__table__.columns]
    known = session.identity_map.get(mapper.identity_key_from_primary_key((values["id"],)))
    if known is not None:
        for name in columns:
            if name in values:
                set_committed_value(known, name, values[name])
        return known
    record = mapper.class_manager.new_instance()  # as the ORM's loading does: no constructor, no history
    record.__dict__.update((name, values[name]) for name in columns if name in values)
    make_transient_to_detached(record)
    session.add(record)
    return record


class NotLatestDefinition(Exception):
    """The definition an instance was to start on is no longer its process's newest version."""


def insert_instance(session: Session, values: dict) -> ProcessInstance:
    """A new instance row with its first state, if its definition is still the newest version of
    its process (checked in the same statement; else NotLatestDefinition and nothing is written);
    IntegrityError when its business key is taken."""
    values = {**values, "version": 1}
    with pipelined(session) as connection:  # (a BEGIN that the transaction still needs goes with it)
        inserted = _insert_if_latest(tuple(values)).execute(connection, values)
    found = inserted.first()
    if found is None:
        raise NotLatestDefinition(values["definition_id"])
    return attach(session, {**values, "id": found["id"]})


@functools.lru_cache(maxsize=16)
def _insert_if_latest(names: tuple[str, ...]) -> DriverStatement:
    definition = ProcessDefinition.__table__
    row = select(*[bindparam(name, type_=_INSTANCE.c[name].type) for name in names]).where(
        exists().where(definition.c.id == bindparam("definition_id"), definition.c.is_latest.is_(True)))
    return DriverStatement(insert(_INSTANCE).from_select(names, row).returning(_INSTANCE.c.id))


def update_instance(session: Session, instance: ProcessInstance, values: dict) -> None:
    """Write the given columns and the next version now, if the row still has the version this
    transaction read; otherwise someone else moved the instance on (Conflict). Outside a pipeline
    (inside one the row count is known only once the pipeline has been sent)."""
    send_instance_update(session, instance, values).confirm()


def send_instance_update(session: Session, instance: ProcessInstance, values: dict) -> InstanceUpdate:
    """The versioned update of the instance's row, sent; confirm() it once it has been answered
    (in a pipeline: after the pipeline). A step sends it ahead of its other writes: it takes the
    row's lock first, and its row count is known even when a later write fails. Changes made
    through the ORM before (e.g. its status) are flushed first, by core(): that flush raises the
    row's version itself, so the version is read only after it."""
    connection = core(session)
    version = instance.version
    parameters = {**values, "row_id": instance.id, "version": version + 1, "row_version": version}
    return InstanceUpdate(instance, values, version + 1, _UPDATE_INSTANCE.execute(connection, parameters))


class InstanceUpdate:
    """A versioned update of an instance row that has been sent."""

    def __init__(self, instance: ProcessInstance, values: dict, version: int, result: DriverResult):
        self.instance, self.values, self.version, self.result = instance, values, version, result

    @property
    def moved_on(self) -> bool:
        """The row had another version meanwhile (known once the update has been answered). A later
        statement sent with it may then fail on the other step's rows: the cause is this."""
        return self.result.rowcount == 0

    def confirm(self) -> None:
        """Conflict if the row had moved on meanwhile; else the ORM object takes the new values."""
        if self.result.rowcount != 1:
            raise self.conflict()
        for name, value in self.values.items():
            set_committed_value(self.instance, name, value)
        set_committed_value(self.instance, "version", self.version)

    def conflict(self) -> Conflict:
        return Conflict(f"process instance {self.instance.id} was changed by someone else at the same time; "
                        "reload and try again")


def core(session: Session):
    """The session's connection for Core statements, after the session's pending ORM changes are
    flushed (rows written next may refer to them; rows read next must not overwrite them)."""
    if session.new or session.dirty:
        session.flush()
    # Asking the session costs as much as a small statement: the connection is remembered for the
    # transaction (or savepoint) that is current, and asked for again inside a new one, so that
    # the session opens that savepoint on it.
    current = session.get_nested_transaction() or session.get_transaction()
    known = session.info.get(_CONNECTION)
    if known is not None and known[0] is current:
        return known[1]
    connection = session.connection()
    session.info[_CONNECTION] = (session.get_nested_transaction() or session.get_transaction(), connection)
    return connection


_CONNECTION = "kontor_connection"


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_rows(session: Session, previous_transaction) -> None:
    """Rows written with Core are not in the session's own bookkeeping: after a savepoint rolls
    back, the instances' objects are read again."""
    if previous_transaction.nested:
        for record in list(session.identity_map.values()):
            if isinstance(record, ProcessInstance):
                session.expire(record)
