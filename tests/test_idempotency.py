"""Idempotency-Key (api/idempotency.py): never on the token route, authentication before any replay,
keyed request hashes, records that expire and reservations that lapse; on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update

from domain.users import User, add_user
from kernel.clock import utcnow
from runtime.idempotency import IdempotencyRecord

START = {"process": "demo_request", "data": {"amount": 10, "request_id": "idem"}}


def new_user(kontor, groups=("sales",)) -> str:
    name = f"idem-{uuid.uuid4().hex[:8]}"
    with kontor.transaction() as session:
        add_user(session, name, f"{name}-password", list(groups))
    return name


def records(kontor) -> list[IdempotencyRecord]:
    with kontor.transaction() as session:
        return list(session.scalars(select(IdempotencyRecord).order_by(IdempotencyRecord.id)))


def instances_started(api) -> int:
    return api.get("/process-instances", params={"process": "demo_request"}).json()["total"]


def backdate(kontor, by: timedelta, **where) -> None:
    with kontor.transaction() as session:
        session.execute(update(IdempotencyRecord).filter_by(**where).values(created_at=utcnow() - by))


# ------------------------------------------------------------------ credentials are never stored
def test_the_token_route_takes_no_part_in_idempotency(client, kontor):
    form = {"username": "olga", "password": "olga-password"}
    first = client.post("/api/v1/auth/token", data=form, headers={"Idempotency-Key": "login-1"})
    second = client.post("/api/v1/auth/token", data=form, headers={"Idempotency-Key": "login-1"})
    assert first.status_code == second.status_code == 200
    assert "idempotent-replayed" not in second.headers
    assert records(kontor) == []  # neither the password's hash nor the token was written anywhere
    # with a valid bearer token as well (a client sending its headers everywhere)
    bearer = {"Authorization": f"Bearer {first.json()['access_token']}", "Idempotency-Key": "login-2"}
    assert client.post("/api/v1/auth/token", data=form, headers=bearer).status_code == 200
    assert records(kontor) == []


def test_the_request_hash_is_keyed_not_a_plain_digest(api, kontor):
    body = b'{"process": "demo_request", "data": {"amount": 10, "request_id": "hash"}}'
    response = api.client.post("/api/v1/process-instances", content=body, headers=api.headers(
        "sam", {"content-type": "application/json", "Idempotency-Key": "hash-1"}))
    assert response.status_code == 201, response.text
    [record] = records(kontor)
    plain = {hashlib.sha256(b"POST /api/v1/process-instances?\0" + body).hexdigest(), hashlib.sha256(body).hexdigest()}
    assert len(record.request_hash) == 64 and record.request_hash not in plain


# ------------------------------------------------------------------ authentication before replay
def test_a_deactivated_user_gets_no_replay(api, kontor):
    name = new_user(kontor)
    headers = {"Idempotency-Key": "start-then-leave"}
    assert api.post("/process-instances", START, user=name, headers=headers).status_code == 201
    assert api.post("/process-instances", START, user=name, headers=headers).headers["idempotent-replayed"] == "true"
    with kontor.transaction() as session:
        session.execute(update(User).where(User.username == name).values(active=False))
    replay = api.post("/process-instances", START, user=name, headers=headers)
    assert replay.status_code == 401, replay.text
    assert "idempotent-replayed" not in replay.headers
    assert replay.json()["error"]["message"] == "the user no longer exists or is inactive"


def test_an_unauthenticated_request_is_neither_reserved_nor_replayed(api, kontor):
    headers = {"Idempotency-Key": "anonymous-1"}
    for auth in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic b2xnYTpvbGdh"}):
        response = api.client.post("/api/v1/process-instances", json=START, headers={**headers, **auth})
        assert response.status_code == 401, response.text
        assert "idempotent-replayed" not in response.headers
    assert records(kontor) == []
    started = api.post("/process-instances", START, user="sam", headers=headers)  # the same key, now signed in
    assert started.status_code == 201 and "idempotent-replayed" not in started.headers


def test_replays_stay_in_the_users_namespace(api, kontor):
    headers = {"Idempotency-Key": "shared-key"}
    first = api.post("/process-instances", START, user="sam", headers=headers)
    other = api.post("/process-instances", START, user="rita", headers=headers)
    assert first.status_code == other.status_code == 201
    assert first.json()["id"] != other.json()["id"] and "idempotent-replayed" not in other.headers


# ------------------------------------------------------------------ expiry
def test_an_expired_record_is_not_replayed_and_is_replaced(api, kontor):
    headers = {"Idempotency-Key": "old-key"}
    first = api.post("/process-instances", START, user="sam", headers=headers)
    backdate(kontor, timedelta(hours=kontor.settings.idempotency_ttl_hours, minutes=1), key="old-key")
    again = api.post("/process-instances", START, user="sam", headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    [record] = records(kontor)
    assert record.created_at > utcnow() - timedelta(minutes=1) and record.status_code == 201
    # within the time to live the answer is replayed
    assert api.post("/process-instances", START, user="sam", headers=headers).json()["id"] == again.json()["id"]


def test_expired_records_are_swept_on_a_reservation(fresh_api, kontor):  # a new process sweeps at once
    with kontor.transaction() as session:
        old = utcnow() - timedelta(hours=kontor.settings.idempotency_ttl_hours + 1)
        session.add_all([IdempotencyRecord(principal="user:sam", key=f"forgotten-{n}", request_hash="0" * 64,
                                           status_code=201, headers={}, body="{}", created_at=old)
                         for n in range(3)])
        session.add(IdempotencyRecord(principal="user:sam", key="recent", request_hash="0" * 64, status_code=201,
                                      headers={}, body="{}", created_at=utcnow() - timedelta(hours=1)))
    assert fresh_api.post("/process-instances", START, user="sam",
                          headers={"Idempotency-Key": "new"}).status_code == 201
    assert sorted(r.key for r in records(kontor)) == ["new", "recent"]


# ------------------------------------------------------------------ reservations are leases
def test_a_reservation_whose_request_died_lapses(api, kontor):
    headers = {"Idempotency-Key": "crashed"}
    assert api.post("/process-instances", START, user="sam", headers=headers).status_code == 201
    with kontor.transaction() as session:  # as if the request had reserved the key and were running now
        session.execute(update(IdempotencyRecord).values(status_code=None, headers=None, body=None,
                                                         created_at=utcnow()))
    running = api.post("/process-instances", START, user="sam", headers=headers)
    assert running.status_code == 409 and running.json()["error"]["code"] == "conflict"
    backdate(kontor, timedelta(seconds=kontor.settings.idempotency_lease_seconds + 1), key="crashed")  # it died
    taken = api.post("/process-instances", START, user="sam", headers=headers)
    assert taken.status_code == 201 and "idempotent-replayed" not in taken.headers, taken.text
    replay = api.post("/process-instances", START, user="sam", headers=headers)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == taken.json()
    assert instances_started(api) == 2


def test_a_request_that_lost_its_lease_does_not_overwrite_the_new_owner(kontor):
    from runtime.idempotency import IdempotencyStore, Lease

    store = IdempotencyStore(kontor.sessions, kontor.settings)
    slow = store.reserve("user:sam", "slow", "a" * 64)
    assert isinstance(slow, Lease)
    assert store.reserve("user:sam", "slow", "a" * 64).status == 409  # its lease still runs
    backdate(kontor, timedelta(seconds=kontor.settings.idempotency_lease_seconds + 1), key="slow")
    second = store.reserve("user:sam", "slow", "b" * 64)  # the slow one is taken for dead
    assert isinstance(second, Lease) and second.since != slow.since
    assert store.reserve("user:sam", "slow", "b" * 64).status == 409  # held again: no third owner
    store.finish(slow, 201, [("content-type", "application/json")], b'{"who": "slow"}')
    [record] = records(kontor)
    assert record.status_code is None and record.body is None
    store.finish(second, 201, [("content-type", "application/json")], b'{"who": "second"}')
    [record] = records(kontor)
    assert (record.status_code, record.body, record.request_hash) == (201, '{"who": "second"}', "b" * 64)


def test_a_5xx_answer_frees_the_key(kontor):
    from runtime.idempotency import IdempotencyStore, Lease

    store = IdempotencyStore(kontor.sessions, kontor.settings)
    lease = store.reserve("user:sam", "failing", "c" * 64)
    store.finish(lease, 503, [], b"{}")
    with kontor.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    assert isinstance(store.reserve("user:sam", "failing", "c" * 64), Lease)


def test_a_running_request_renews_its_lease_and_a_lost_lease_is_not_renewed(kontor):
    from runtime.idempotency import IdempotencyStore, Lease

    store = IdempotencyStore(kontor.sessions, kontor.settings)
    first = store.reserve("user:sam", "renewed", "d" * 64)
    renewed = store.renew(first)
    assert isinstance(renewed, Lease) and renewed.since > first.since
    assert store.renew(first) is None  # the old lease is no longer the row's
    backdate(kontor, timedelta(seconds=kontor.settings.idempotency_lease_seconds - 1), key="renewed")
    with kontor.transaction() as session:
        since = session.scalar(select(IdempotencyRecord.created_at).where(IdempotencyRecord.key == "renewed"))
    assert store.reserve("user:sam", "renewed", "d" * 64).status == 409  # within the lease: still running
    assert store.renew(Lease("user:sam", "renewed", since)) is not None


def test_by_default_a_crashed_request_frees_its_key_within_a_minute():
    from kontor.settings import Settings

    assert Settings(database_url="sqlite://").idempotency_lease_seconds <= 60
