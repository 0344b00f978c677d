"""Dependencies of the routers: the unit of work, the current user and role checks."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.users import User, principal_of
from kernel import formatting
from kernel.errors import Forbidden
from kernel.principal import Principal
from kontor.bootstrap import Kontor
from runtime.runtime import ProcessRuntime

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_kontor(request: Request) -> Kontor:
    return request.app.state.kontor


KontorDep = Annotated[Kontor, Depends(get_kontor)]


def reader_language(request: Request) -> str:
    """The language the caller reads (de or en): the first of its Accept-Language that Kontor writes,
    German when it names none."""
    return formatting.language(request.headers.get("accept-language"))


ReaderLanguage = Annotated[str, Depends(reader_language)]


def get_session(kontor: KontorDep) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    with kontor.transaction() as session:
        yield session


# scope "function": the transaction commits before the answer is sent (by default FastAPI ends a
# yield dependency only after the response has gone out, so a failed commit would follow a 2xx answer,
# and a client reading right after its write could miss it)
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_runtime(kontor: KontorDep) -> ProcessRuntime:
    return kontor.runtime


RuntimeDep = Annotated[ProcessRuntime, Depends(get_runtime)]


# Every token must carry these: a token without an expiry would be valid for ever, one without
# the user's token version would survive a password change.
REQUIRED_CLAIMS = ["exp", "iat", "sub", "ver"]


def issue_token(kontor: Kontor, user: User) -> tuple[str, int]:
    ttl = kontor.settings.token_ttl_minutes * 60
    now = datetime.now(timezone.utc)
    claims = {"sub": user.username, "iat": now, "exp": now + timedelta(seconds=ttl), "ver": user.token_version}
    return jwt.encode(claims, kontor.settings.signing_key(), algorithm="HS256"), ttl


def _unauthenticated(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


# What a user whose password is a one-time password may do before changing it.
PASSWORD_CHANGE_PATHS = frozenset({"/api/v1/me", "/api/v1/me/password", "/api/v1/me/logout-everywhere"})


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, as the API's own check reads it; None else.
    For the code that runs before the route's dependencies (the idempotency middleware, the answer
    to a body that does not parse)."""
    scheme, token = get_authorization_scheme_param(authorization)
    return token if scheme.lower() == "bearer" and token else None


def authenticated(kontor: Kontor, token: str | None) -> tuple[Principal, bool]:
    """Who the token is for, if valid now (the user active, the token not revoked), and whether their
    password is a one-time password still to be changed; 401 otherwise."""
    if not token:
        raise _unauthenticated("not authenticated: send a bearer token from /api/v1/auth/token")
    try:
        claims = jwt.decode(token, kontor.settings.signing_key(), algorithms=["HS256"],
                            options={"require": REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError:
        raise _unauthenticated("the token has expired") from None
    except jwt.PyJWTError:
        raise _unauthenticated("the token is not valid") from None
    with kontor.transaction() as session:
        user = session.scalar(select(User).where(User.username == claims.get("sub"), User.active.is_(True)))
        if user is None:
            raise _unauthenticated("the user no longer exists or is inactive")
        if type(claims["ver"]) is not int or claims["ver"] != user.token_version:  # noqa: E721 - 1.0 and True are not 1
            raise _unauthenticated("the token was revoked: the password changed or the user logged out everywhere")
        return principal_of(user), user.must_change_password


def current_principal(kontor: KontorDep, token: Annotated[str | None, Depends(oauth2)], request: Request) -> Principal:
    principal, must_change_password = authenticated(kontor, token)
    if must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise Forbidden("change your one-time password first: POST /api/v1/me/password", password_change_required=True)
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require(*groups: str):
    """A dependency that lets only members of one of these groups (or admins) through."""

    def check(user: CurrentUser) -> Principal:
        if not user.has_any(*groups):
            raise HTTPException(status_code=403, detail=f"this needs one of the roles: {', '.join(groups)}")
        return user

    return Depends(check)


OpsUser = Annotated[Principal, require("ops")]
AdminUser = Annotated[Principal, require("admin")]
