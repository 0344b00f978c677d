"""Contact persons across customers (search by name or e-mail; who receives which documents)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.customer_schemas import CONTACT_NOT_NULL, ContactOut, ContactPatch
from api.deps import CurrentUser, SessionDep
from api.params import Limit, Offset, OptionalId, RecordId, sort_by
from api.schemas import Page, patch_changes
from domain.customers import commands, queries

router = APIRouter(prefix="/contacts", tags=["customers"])


@router.get("", response_model=Page[ContactOut], summary="Contacts: search, filter, sort, page")
def list_(session: SessionDep, user: CurrentUser, q: Annotated[str | None, Query(max_length=200)] = None,
          customer_id: OptionalId = None, receives: Literal["offers", "invoices", "dunning"] | None = None,
          language: Literal["de", "en"] | None = None, sort: sort_by(*queries.CONTACT_SORTS) = "last_name",
          limit: Limit = 50, offset: Offset = 0):
    f = queries.ContactFilter(q=q, customer_id=customer_id, receives=receives, language=language, sort=sort,
                              limit=limit, offset=offset)
    rows, total = queries.list_contacts(session, user, f)
    return Page(items=[ContactOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{contact_id}", response_model=ContactOut)
def get(contact_id: RecordId, session: SessionDep, user: CurrentUser):
    return queries.readable_contact(session, user, contact_id)


@router.patch("/{contact_id}", response_model=ContactOut)
def patch(contact_id: RecordId, body: ContactPatch, session: SessionDep, user: CurrentUser):
    changes = patch_changes(body, CONTACT_NOT_NULL)
    queries.readable_contact(session, user, contact_id)
    return commands.update_contact(session, user, contact_id, changes)
