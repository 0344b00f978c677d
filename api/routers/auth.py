from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.client_address import client_address
from api.deps import KontorDep, issue_token
from api.schemas import TokenOut
from domain.login import log_in
from domain.login_throttle import ThrottleRules

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut,
             summary="OAuth2 password flow: user name and password for a bearer token",
             description="Failed logins are throttled per client address and per account: after a few, the next "
                         "attempt waits (429 with Retry-After, the password unchecked). While every password "
                         "hashing slot is taken for long: 503 with Retry-After. A form post "
                         "(application/x-www-form-urlencoded); anything else, JSON too, is answered 415. After a "
                         "one-time password the token serves only /me until the password is changed "
                         "(`password_change_required`).")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, kontor: KontorDep):
    settings = kontor.settings
    user = log_in(kontor.sessions, kontor.password_gate, ThrottleRules.of(settings), form.username, form.password,
                  client_address(request, settings.trusted_proxies))
    if user is None:
        raise HTTPException(status_code=401, detail="wrong user name or password",
                            headers={"WWW-Authenticate": "Bearer"})
    access_token, ttl = issue_token(kontor, user)
    return TokenOut(access_token=access_token, expires_in=ttl, password_change_required=user.must_change_password)
