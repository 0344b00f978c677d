from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import KontorDep, SessionDep, issue_token
from api.schemas import TokenOut
from domain.users import authenticate

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, summary="OAuth2 password flow: user name and password for a bearer token")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, kontor: KontorDep):
    user = authenticate(session, form.username, form.password)
    if user is None:
        raise HTTPException(status_code=401, detail="wrong user name or password",
                            headers={"WWW-Authenticate": "Bearer"})
    access_token, ttl = issue_token(kontor, user)
    return TokenOut(access_token=access_token, expires_in=ttl)
