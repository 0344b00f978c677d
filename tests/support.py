"""Helpers for the tests: PostgreSQL databases per test worker, an API client that logs in as named
users, and a demonstration instance started through the runtime."""
from __future__ import annotations

import os
import time

import psycopg
from psycopg import sql

from kernel.principal import SYSTEM
from runtime.instances import start_instance
from runtime.models import ProcessInstance

PG_ADMIN_URL = os.environ.get("KONTOR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

TEST_USERS = {
    "rita": ["reviewer", "sales"],   # reviewer who also sells
    "rolf": ["reviewer"],            # second reviewer
    "sam": ["sales"],                # salesperson, not a reviewer
    "olga": ["ops"],                 # operations
    "ivan": ["integration"],         # the mail intake / integrations
    "mona": ["manager"],             # sales manager: changes every customer
    "tara": ["approver", "team_lead"],          # approves offers at team-lead level
    "tina": ["approver", "team_lead"],          # second team lead
    "sven": ["approver", "sales_manager"],      # sales manager level (and the team leads' deputy)
    "dora": ["approver", "managing_director"],  # managing director level
    "alma": ["accounting"],          # accounting: invoices, credit notes
    "arne": ["accounting"],          # second accountant (four eyes on invoices)
    "ada": ["admin"],                # administrator: every role
}


def restore_test_users(kontor) -> None:
    """The test users as made at the start (groups, active, password, no one-time password): for tests
    that let an administrator's requests loose on them (the OpenAPI fuzzing)."""
    from sqlalchemy import select

    from domain.passwords import hash_password
    from domain.users import User

    with kontor.transaction() as session:
        for user in session.scalars(select(User).where(User.username.in_(TEST_USERS))):
            user.groups, user.active, user.customer_id = sorted(TEST_USERS[user.username]), True, None
            user.password_hash, user.must_change_password = hash_password(f"{user.username}-password"), False


def ok(response, status: int = 200):
    """The JSON body of a response that must have this status (the body is shown when it has not)."""
    assert response.status_code == status, response.text
    return response.json()


def _sqlalchemy_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+psycopg://", 1) + f"/{dbname}"


def create_pg_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _sqlalchemy_url(name)


def drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class API:
    """Calls /api/v1 as a named test user (tokens are fetched once per user)."""

    def __init__(self, client):
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, user: str) -> str:
        if user not in self._tokens:
            response = self.client.post("/api/v1/auth/token",
                                        data={"username": user, "password": f"{user}-password"})
            assert response.status_code == 200, response.text
            self._tokens[user] = response.json()["access_token"]
        return self._tokens[user]

    def forget(self, user: str) -> None:
        """The next call as `user` logs in again (their tokens were ended)."""
        self._tokens.pop(user, None)

    def headers(self, user: str | None, extra: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str, user: str | None = "olga", **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers(user, kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json=None, user: str | None = "olga", **kwargs):
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers(user, kwargs.pop("headers", None)),
                                **kwargs)

    def put(self, path: str, json=None, user: str | None = "olga", **kwargs):
        return self.client.put(f"/api/v1{path}", json=json, headers=self.headers(user, kwargs.pop("headers", None)),
                               **kwargs)

    def patch(self, path: str, json=None, user: str | None = "olga", **kwargs):
        return self.client.patch(f"/api/v1{path}", json=json, headers=self.headers(user, kwargs.pop("headers", None)),
                                 **kwargs)

    def delete(self, path: str, user: str | None = "olga", **kwargs):
        return self.client.delete(f"/api/v1{path}", headers=self.headers(user, kwargs.pop("headers", None)), **kwargs)

    def version(self, path: str) -> int:
        """The current version of the record at `path` (read by ops), for a change that names it."""
        response = self.get(path)
        assert response.status_code == 200, response.text
        return response.json()["version"]

    def edit(self, path: str, changes: dict, user: str | None = "olga", **kwargs):
        """PATCH as a client does it: from the version it has just read."""
        return self.patch(path, {**changes, "version": self.version(path)}, user=user, **kwargs)

    # ---- shortcuts for the demonstration process
    def start_demo(self, user: str = "sam", business_key: str | None = None, **data):
        data.setdefault("request_id", f"R-{time.monotonic_ns()}")
        data.setdefault("amount", 5000)
        response = self.post("/process-instances", {"process": "demo_request", "business_key": business_key,
                                                    "data": data}, user=user)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def instance(self, instance_id: int, user: str = "olga") -> dict:
        response = self.get(f"/process-instances/{instance_id}", user=user)
        assert response.status_code == 200, response.text
        return response.json()

    def open_task(self, instance_id: int, user: str = "olga") -> dict:
        tasks = self.instance(instance_id, user)["tasks"]
        assert len(tasks) == 1, tasks
        return tasks[0]


def set_groups(kontor, username: str, groups: list[str]) -> None:
    from sqlalchemy import select

    from domain.users import User

    with kontor.transaction() as session:
        session.scalar(select(User).where(User.username == username)).groups = groups


def ensure_user(kontor, username: str, groups: list[str], customer_id: int | None = None, *,
                password_too: bool = False) -> str:
    """A user with these groups (password `<name>-password`, as the API helper logs in), created once
    per database and set to these groups and this customer on every call (and to that password, if
    asked: for a user whose password a test changes)."""
    from sqlalchemy import select

    from domain.users import User, add_user

    with kontor.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            add_user(session, username, f"{username}-password", groups, email=f"{username}@kontor.test",
                     customer_id=customer_id)
        else:
            user.groups, user.customer_id, user.active = sorted(groups), customer_id, True
            if password_too:
                from domain.passwords import hash_password

                user.password_hash, user.must_change_password = hash_password(f"{username}-password"), False
    return username


def start_demo(kontor, request_id: str) -> int:
    """A demonstration instance (amount 250: no review) started through the runtime's handler; its id."""
    with kontor.transaction() as session:
        instance, _ = start_instance(session, kontor.runtime, SYSTEM, "demo_request",
                                     {"amount": 250, "request_id": request_id})
        return instance.id


def instance_row(kontor, instance_id: int):
    """The instance's row as stored now."""
    with kontor.transaction() as session:
        return session.get(ProcessInstance, instance_id)
