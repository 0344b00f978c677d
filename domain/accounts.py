"""The accounts module: users and their groups, logging in (throttled, audited), passwords."""
from __future__ import annotations

from domain import login_throttle, security_events, users
from kernel.module import Module


def wire(kontor) -> None:
    kontor.runtime.people = users.active_principal  # tasks are delegated to active users


MODULE = Module(
    name="accounts",
    models=(users, security_events, login_throttle),
    wire=wire,
    routers=("api.routers.auth:router",),
)
