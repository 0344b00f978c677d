"""/me: who the signed-in user is, their own password, logging out everywhere. For every user,
portal users too; nothing here changes groups or anything an administrator decides."""
from __future__ import annotations

from fastapi import APIRouter, Request

from api.client_address import client_address
from api.deps import CurrentUser, KontorDep, SessionDep
from api.user_schemas import MeOut, PasswordChangeIn
from domain.login import change_own_password
from domain.login_throttle import ThrottleRules
from domain.user_admin import user_by_name
from domain.users import log_out_everywhere, profile

router = APIRouter(prefix="/me", tags=["me"])


def _me(session, username: str) -> MeOut:
    return MeOut(**profile(session, username))


@router.get("", response_model=MeOut, summary="Who am I: name, groups and, for portal users, the customer")
def who_am_i(session: SessionDep, me: CurrentUser):
    return _me(session, me.username)


@router.post("/password", response_model=MeOut,
             summary="Change my password (the current one is required); every token of mine stops working",
             description="A wrong current password counts as a failed login (throttled: 429 with Retry-After). "
                         "Log in again with the new password afterwards. This also completes a one-time password.")
def change_password(body: PasswordChangeIn, request: Request, me: CurrentUser, kontor: KontorDep):
    settings = kontor.settings
    change_own_password(kontor.sessions, kontor.password_gate, ThrottleRules.of(settings), me.username,
                        body.current_password, body.new_password,
                        client_address(request, settings.trusted_proxies))
    with kontor.transaction() as session:
        return _me(session, me.username)


@router.post("/logout-everywhere", response_model=MeOut,
             summary="Log out everywhere: every token of mine stops working, this one too")
def logout_everywhere(request: Request, session: SessionDep, me: CurrentUser, kontor: KontorDep):
    log_out_everywhere(session, user_by_name(session, me.username),
                       client_address=client_address(request, kontor.settings.trusted_proxies))
    return _me(session, me.username)
