"""Contact persons across customers (search by name or e-mail; who receives which documents)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.customer_schemas import CONTACT_NOT_NULL, ContactOut, ContactPatch
from api.deps import CurrentUser, SessionDep
from api.params import Limit, Offset, OptionalId, RecordId, sort_by
from api.schemas import Page, patch_changes
from api.versioning import set_etag, versioned
from domain.customers import commands, queries

router = APIRouter(prefix="/contacts", tags=["customers"])
ContactPrecondition = versioned("contact", "contact_id")


@router.get("", response_model=Page[ContactOut], summary="Contacts: search, filter, sort, page")
def list_(session: SessionDep, user: CurrentUser, q: Annotated[str | None, Query(max_length=200)] = None,
          customer_id: OptionalId = None, receives: Literal["offers", "invoices", "dunning"] | None = None,
          language: Literal["de", "en"] | None = None, sort: sort_by(*queries.CONTACT_SORTS) = "last_name",
          limit: Limit = 50, offset: Offset = 0):
    f = queries.ContactFilter(q=q, customer_id=customer_id, receives=receives, language=language, sort=sort,
                              limit=limit, offset=offset)
    rows, total = queries.list_contacts(session, user, f)
    return Page(items=[ContactOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{contact_id}", response_model=ContactOut, summary="The contact (its ETag in the header)")
def get(contact_id: RecordId, session: SessionDep, user: CurrentUser, response: Response):
    return set_etag(response, "contact", queries.readable_contact(session, user, contact_id))


@router.patch("/{contact_id}", response_model=ContactOut, summary="Change the fields sent (send `version` or If-Match)")
def patch(contact_id: RecordId, body: ContactPatch, session: SessionDep, user: CurrentUser,
          precondition: ContactPrecondition, response: Response):
    changes = patch_changes(body, CONTACT_NOT_NULL)
    version = precondition.expected(changes.pop("version", None))
    queries.readable_contact(session, user, contact_id)
    return set_etag(response, "contact", commands.update_contact(session, user, contact_id, changes, version))
