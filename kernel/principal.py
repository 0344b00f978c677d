"""Who is acting, and the groups that decide what they may do: lanes, candidate groups and user
roles share one spelling."""
from __future__ import annotations

from dataclasses import dataclass

ROLES = ("sales", "approver", "manager", "ops", "admin", "accounting", "portal")
STAFF_ROLES = ("sales", "approver", "manager", "ops", "admin", "reviewer", "accounting")


def normalize_group(name: str) -> str:
    """'Sales Manager' and 'sales_manager' are the same group."""
    return "_".join(name.strip().lower().split())


@dataclass(frozen=True)
class Principal:
    """Who is acting: what the API and the runtime need to know of a user."""
    username: str
    groups: frozenset[str]
    customer_id: int | None = None  # set for portal users only

    def has_any(self, *groups: str) -> bool:
        return "admin" in self.groups or any(g in self.groups for g in groups)

    @property
    def is_portal(self) -> bool:
        return self.customer_id is not None

    @property
    def is_staff(self) -> bool:
        """One of the company's people (a staff role), never a customer's portal user."""
        return not self.is_portal and self.has_any(*STAFF_ROLES)


SYSTEM = Principal("system", frozenset({"admin"}))
