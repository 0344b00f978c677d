"""The security audit: failed logins (which name, from which client address, when, why) and every
change of an account: created, groups changed, deactivated, reactivated, a one-time password set,
the password changed, logged out everywhere. Each change names who made it (`actor`: an
administrator's user name, "cli" for the command line; empty when the user made it themselves) and
what changed (`details`).

Its own table: `audit_event` belongs to process instances (every row names one). A failed login is
written only when its password was checked; a login refused while throttled writes nothing, so a
flood of refused attempts costs one read each and no table grows with it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.clock import utcnow
from kernel.db import Base

LOGIN_FAILED = "login_failed"
PASSWORD_CHANGED = "password_changed"
LOGGED_OUT_EVERYWHERE = "logged_out_everywhere"
USER_DEACTIVATED = "user_deactivated"
USER_CREATED = "user_created"
USER_REACTIVATED = "user_reactivated"
GROUPS_CHANGED = "groups_changed"
PASSWORD_RESET = "password_reset"  # an administrator set a one-time password
KINDS = (LOGIN_FAILED, PASSWORD_CHANGED, LOGGED_OUT_EVERYWHERE, USER_DEACTIVATED, USER_CREATED, USER_REACTIVATED,
         GROUPS_CHANGED, PASSWORD_RESET)


class SecurityEvent(Base):
    __tablename__ = "security_event"
    __table_args__ = (Index("ix_security_event_username_at", "username", "at"),
                      Index("ix_security_event_at", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    username: Mapped[str] = mapped_column(String(100))  # the name given at login, which need not exist
    client_address: Mapped[str | None] = mapped_column(String(45))
    reason: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str | None] = mapped_column(String(100))  # who made the change, when not the user
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what changed, e.g. {"from": [...], "to": [...]}


def printable(text: str | None, limit: int) -> str:
    """Text as the audit stores it: control characters and what no database stores (NUL, lone
    surrogates) become '?', at most `limit` characters."""
    cleaned = "".join("?" if not c.isprintable() or 0xD800 <= ord(c) <= 0xDFFF else c for c in (text or ""))
    return cleaned[:limit]


def record_event(session: Session, kind: str, username: str, *, client_address: str | None = None,
                 reason: str | None = None, actor: str | None = None, at: datetime | None = None,
                 details: dict[str, Any] | None = None) -> None:
    session.add(SecurityEvent(kind=kind, username=printable(username, 100),
                              client_address=printable(client_address, 45) or None, reason=reason,
                              actor=actor, at=at or utcnow(), details=details))
