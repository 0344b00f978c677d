"""The accounts module: users and their groups, logging in (throttled, audited), passwords, the
administration of users (domain.user_admin) and the security audit."""
from __future__ import annotations

from domain import login_throttle, security_events, users
from domain.login_settings import LoginSettings
from kernel.module import Module


def wire(kontor) -> None:
    kontor.runtime.look_up_people_with(users.active_principal)  # tasks are delegated to active users


MODULE = Module(
    name="accounts",
    settings=LoginSettings,
    models=(users, security_events, login_throttle),
    wire=wire,
    routers=("api.routers.auth:router", "api.routers.me:router", "api.routers.users:router"),
)
