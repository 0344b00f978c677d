"""The API answers as its OpenAPI document says: requests generated from the document (valid and
invalid ones, and methods a path does not have) for every operation, as an administrator and as a
portal user, on SQLite and PostgreSQL, with every check of the generator. One is narrowed:
schema-valid data may be refused by a business rule (422 with the rule's own message, e.g. a VAT
treatment that does not fit the country), not by request validation. KONTOR_FUZZ_EXAMPLES sets the
examples per operation (scripts/fuzz runs more)."""
from __future__ import annotations

import os
from collections.abc import Callable
from types import SimpleNamespace

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select

from api.app import create_app
from api.deps import issue_token
from api.errors import REQUEST_NOT_VALID
from domain.users import User, add_user
from kontor.modules import MODULES
from tests.conftest import empty_database
from tests.support import restore_test_users

EXAMPLES = int(os.environ.get("KONTOR_FUZZ_EXAMPLES", "3"))
CONFIG = SchemathesisConfig.from_dict({
    "seed": 20261205,
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
    "checks": {"enabled": True, "positive_data_acceptance": {"enabled": False}},
})


# A change of a versioned record names its version in the body or in If-Match (api/versioning.py):
# the document cannot say "one of the two", so schema-valid data may lack both (428) or name another
# version (412, and 409 as for any race).
PRECONDITION_ANSWERS = {412: "precondition_failed", 428: "precondition_required"}


@schemathesis.check
def positive_data_acceptance_but_business_rules(ctx, response, case):
    """positive_data_acceptance, except for a 422 that a business rule gave and the version preconditions."""
    if response.status_code == 422 and response.json()["error"]["message"] != REQUEST_NOT_VALID:
        return None
    if response.status_code in PRECONDITION_ANSWERS and \
            PRECONDITION_ANSWERS[response.status_code] == response.json()["error"]["code"]:
        return None
    return positive_data_acceptance(ctx, response, case)
# The document does not depend on the database: read it from an application that serves nothing.
_DOCUMENT_ONLY = SimpleNamespace(sessions=None, settings=SimpleNamespace(signing_key=lambda: "document-only"),
                                 modules=MODULES)
schema = schemathesis.openapi.from_dict(create_app(_DOCUMENT_ONLY).openapi(), config=CONFIG)


@pytest.fixture(scope="module")
def fuzz_app(kontor_app):
    """One application per database for all operations; the data the requests make stays between them.
    What the administrator's requests did to the test users (groups, deactivations, one-time
    passwords) is undone afterwards."""
    empty_database(kontor_app)
    yield create_app(kontor_app)
    restore_test_users(kontor_app)


def _user(kontor, username: str) -> User | None:
    with kontor.transaction() as session:
        return session.scalar(select(User).where(User.username == username))


def _portal_user(kontor, app) -> User:
    """Paula, portal user of a customer that an administrator created through the API."""
    admin = {"Authorization": f"Bearer {issue_token(kontor, _user(kontor, 'ada'))[0]}"}
    with TestClient(app) as client:
        response = client.post("/api/v1/customers", json={"name": "Portal Kunde GmbH", "country": "DE"},
                               headers=admin)
    assert response.status_code == 201, response.text
    with kontor.transaction() as session:
        add_user(session, "paula", "paula-password", ["portal"], customer_id=response.json()["id"])
    return _user(kontor, "paula")


# each caller's operations run together on one test worker (its database holds that caller's data)
@pytest.fixture(scope="module", params=[pytest.param(who, marks=pytest.mark.xdist_group(f"openapi_fuzz_{who}"))
                                        for who in ("admin", "portal")])
def caller(request, kontor_app, fuzz_app) -> Callable[[], dict]:
    """The headers of an administrator's or a portal user's next request: a token issued for it, as
    an earlier request may have logged the caller out everywhere (/me/logout-everywhere)."""
    name = "ada" if request.param == "admin" else _portal_user(kontor_app, fuzz_app).username
    return lambda: {"Authorization": f"Bearer {issue_token(kontor_app, _user(kontor_app, name))[0]}"}


@schema.parametrize()
def test_the_api_answers_as_its_openapi_document_says(case, fuzz_app, caller):
    case.call_and_validate(app=fuzz_app, headers=caller())
