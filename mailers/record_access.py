"""Who may attach a received mail to a business record by hand: whoever may edit that record, as
the business module the record belongs to decides (each registers its check here at start-up).
Attaching to a customer needs the right to edit that customer."""
from __future__ import annotations

from typing import Callable

from sqlalchemy.orm import Session

from domain.customers.access import editable_customer
from kernel.principal import Principal
from kernel.errors import Forbidden

# check(session, who, record_id): raises NotFound/Forbidden unless `who` may edit the record
RecordCheck = Callable[[Session, Principal, int], object]


class MailRecords:
    def __init__(self):
        self._checks: dict[str, RecordCheck] = {}

    def register(self, record_type: str, check: RecordCheck) -> None:
        self._checks[record_type] = check

    def require_editable(self, session: Session, who: Principal, record_type: str | None, record_id: int | None,
                         customer_id: int | None) -> None:
        check = self._checks.get(record_type or "")
        if check is not None and record_id is not None:
            check(session, who, record_id)
        elif customer_id is not None:
            editable_customer(session, who, customer_id)
        elif not who.has_any("manager"):
            raise Forbidden("a mail about no customer's record is routed by hand by managers only")
