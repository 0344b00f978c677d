"""/users: the administration of users, for administrators (thin: parse, call domain.user_admin, shape)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import AdminUser, KontorDep, SessionDep
from api.params import OptionalId, RecordId, paging
from api.schemas import Page, page_out
from api.user_schemas import GroupsIn, OneTimePasswordIn, SecurityEventOut, UserIn, UserOut
from domain import user_admin
from domain.security_events import KINDS

router = APIRouter(prefix="/users", tags=["users"])
UserPage = paging("username", *user_admin.USER_SORTS)
AuditPage = paging("-at", "at")
GroupFilter = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,49}$", description="members of this group")]
SearchText = Annotated[str | None, Query(max_length=200, description="searches user name, name and e-mail")]


@router.post("", response_model=UserOut, status_code=201,
             summary="Create a user with groups (portal users: with their customer) and a one-time password")
def create(body: UserIn, session: SessionDep, admin: AdminUser, kontor: KontorDep):
    customer = body.customer_id if body.customer_id is not None else body.customer_number
    with kontor.password_gate.slot():  # hashing the password: as many at once as logins may
        return user_admin.create_user(session, admin, user_admin.NewUser(
            username=body.username, password=body.password, groups=tuple(body.groups), full_name=body.full_name,
            email=body.email, phone=body.phone, customer=customer))


@router.get("", response_model=Page[UserOut], summary="Users: filter by group, activity, customer; search; page")
def list_(session: SessionDep, admin: AdminUser, page: UserPage, group: GroupFilter = None,
          active: Annotated[bool | None, Query(description="true: active users, false: deactivated ones; "
                                                           "left out: both")] = None,
          customer_id: OptionalId = None, q: SearchText = None):
    wanted = user_admin.UserFilter(group=group, active=active, customer_id=customer_id, q=q)
    return page_out(UserOut, user_admin.list_users(session, admin, wanted, page), page)


@router.get("/{user_id}", response_model=UserOut)
def get(user_id: RecordId, session: SessionDep, admin: AdminUser):
    return user_admin.user_by_id(session, user_id)


@router.put("/{user_id}/groups", response_model=UserOut,
            summary="Set the user's groups (send the `version` you read); not your own admin group away")
def set_groups(user_id: RecordId, body: GroupsIn, session: SessionDep, admin: AdminUser):
    return user_admin.set_groups(session, admin, user_admin.user_by_id(session, user_id), body.groups, body.version)


@router.post("/{user_id}/deactivate", response_model=UserOut,
             summary="The user can no longer log in; their tokens stop working at once (not yourself)")
def deactivate(user_id: RecordId, session: SessionDep, admin: AdminUser):
    return user_admin.deactivate(session, admin, user_admin.user_by_id(session, user_id))


@router.post("/{user_id}/reactivate", response_model=UserOut,
             summary="The user may log in again (tokens from before stay void)")
def reactivate(user_id: RecordId, session: SessionDep, admin: AdminUser):
    return user_admin.reactivate(session, admin, user_admin.user_by_id(session, user_id))


@router.post("/{user_id}/password", response_model=UserOut,
             summary="Set a one-time password: the user changes it at the next login; their tokens stop working")
def set_one_time_password(user_id: RecordId, body: OneTimePasswordIn, session: SessionDep, admin: AdminUser,
                          kontor: KontorDep):
    user = user_admin.user_by_id(session, user_id)
    with kontor.password_gate.slot():
        return user_admin.set_one_time_password(session, admin, user, body.password)


@router.get("/{user_id}/audit", response_model=Page[SecurityEventOut],
            summary="The user's security audit: changes of the account (who, when, what) and failed logins")
def audit(user_id: RecordId, session: SessionDep, admin: AdminUser, page: AuditPage,
          kind: Literal[KINDS] | None = None):  # type: ignore[valid-type]
    return page_out(SecurityEventOut, user_admin.audit_of(session, admin, user_admin.user_by_id(session, user_id),
                                                          page, kind), page)
