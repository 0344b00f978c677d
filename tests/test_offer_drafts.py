"""Drafts are scratch paper: a draft without an opportunity opens none until it is submitted, so
throwaway drafts (withdrawn or deleted) never reach the pipeline; a draft never submitted may be
deleted by who may change it, and the offer numbers stay gapless. SQLite and PostgreSQL."""
from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import update

from domain.documents import store_generated
from domain.offers.models import Offer
from kernel.documents import DocumentStore
from tests.offer_support import new_offer, sales_setup
from tests.support import ok
from tests.test_offer_process import traces


def offer_phase(api) -> tuple[int, Decimal]:
    phases = {p["key"]: p for p in ok(api.get("/opportunities/pipeline", user="sam"))["phases"]}
    return phases["offer"]["count"], Decimal(phases["offer"]["amount"])


def test_throwaway_drafts_never_reach_the_pipeline_and_submission_opens_the_opportunity(api):
    setup = sales_setup(api)
    customer = setup["customer"]["id"]
    before = offer_phase(api)
    drafts = [new_offer(api, setup) for _ in range(3)]
    assert [d["opportunity_id"] for d in drafts] == [None, None, None]
    assert ok(api.get("/opportunities", params={"customer_id": customer}, user="sam"))["total"] == 0
    assert offer_phase(api) == before
    assert ok(api.post(f"/offers/{drafts[0]['id']}/withdraw", user="sam"))["status"] == "cancelled"
    assert api.delete(f"/offers/{drafts[1]['id']}", user="sam").status_code == 204
    assert api.get(f"/offers/{drafts[1]['id']}", user="sam").status_code == 404
    assert offer_phase(api) == before

    submitted = ok(api.post(f"/offers/{drafts[2]['id']}/submit", {}, user="sam"))
    opportunity = ok(api.get(f"/opportunities/{submitted['opportunity_id']}", user="sam"))
    assert (opportunity["phase"], opportunity["state"], opportunity["title"]) == ("offer", "open", submitted["title"])
    assert opportunity["amount"] == submitted["net_total"] and opportunity["owner"] == "sam"
    count, amount = offer_phase(api)
    assert (count, amount) == (before[0] + 1, before[1] + Decimal(submitted["net_total"]))
    kinds = traces(api, customer)
    assert {"offer_created", "offer_withdrawn", "offer_deleted", "offer_submitted"} <= set(kinds)


def test_only_a_draft_never_submitted_is_deleted_by_who_may_change_it(api, kontor):
    setup = sales_setup(api)
    draft = new_offer(api, setup)
    assert api.delete(f"/offers/{draft['id']}", user="rita").status_code == 403  # not her customer
    assert api.delete(f"/offers/{draft['id']}", user="olga").status_code == 403  # ops read, change nothing
    stale = api.delete(f"/offers/{draft['id']}", user="sam", headers={"If-Match": f'"offer-{draft["id"]}-v999"'})
    assert stale.status_code == 412
    assert api.get(f"/offers/{draft['id']}", user="sam").status_code == 200

    submitted = ok(api.post(f"/offers/{new_offer(api, setup)['id']}/submit", {}, user="sam"))
    refused = api.delete(f"/offers/{submitted['id']}", user="sam")
    assert refused.status_code == 409 and "withdrawn" in refused.json()["error"]["message"]
    withdrawn = ok(api.post(f"/offers/{submitted['id']}/withdraw", user="sam"))
    assert api.delete(f"/offers/{withdrawn['id']}", user="sam").status_code == 409  # numbered: stays on record

    with_document = new_offer(api, setup)
    with kontor.transaction() as session:  # a file Kontor made for it (uploads do not go to offers)
        store_generated(session, DocumentStore.under(kontor.settings.data_dir), kontor.document_owners, "offer",
                        with_document["id"], "Skizze.pdf", "application/pdf", b"%PDF-1.7\n%%EOF\n", "sam")
    kept = api.delete(f"/offers/{with_document['id']}", user="sam")
    assert kept.status_code == 409 and "document" in kept.json()["error"]["message"]

    read = api.get(f"/offers/{draft['id']}", user="sam")
    deleted = api.delete(f"/offers/{draft['id']}", user="sam", headers={"If-Match": read.headers["ETag"]})
    assert deleted.status_code == 204


def test_a_deleted_drafts_id_never_names_another_offer(api):
    setup = sales_setup(api)
    newest = new_offer(api, setup)  # the newest row: its id would be the next one given on SQLite
    etag = api.get(f"/offers/{newest['id']}", user="sam").headers["ETag"]
    assert api.delete(f"/offers/{newest['id']}", user="sam").status_code == 204
    following = new_offer(api, setup)
    assert following["id"] != newest["id"]
    assert api.patch(f"/offers/{newest['id']}", {"title": "stale"}, user="sam",
                     headers={"If-Match": etag}).status_code == 404
    assert api.delete(f"/offers/{newest['id']}", user="sam").status_code == 404  # a retried DELETE
    assert ok(api.get(f"/offers/{following['id']}", user="sam"))["title"] == following["title"]
    listed = ok(api.get("/offers", params={"customer_id": setup["customer"]["id"]}, user="sam"))["items"]
    assert newest["id"] not in [offer["id"] for offer in listed]
    timeline = ok(api.get(f"/customers/{setup['customer']['id']}/traces", user="sam",
                          headers={"Accept-Language": "de"}))["items"]
    [gone] = [t for t in timeline if t["kind"] == "offer_deleted"]
    assert gone["summary"] == f"Angebotsentwurf {newest['id']} gelöscht: {newest['title']}"


def test_deleting_a_draft_leaves_no_gap_and_keeps_the_opportunity_it_named(api):
    setup = sales_setup(api)
    customer = setup["customer"]["id"]
    project = ok(api.post("/opportunities", {"customer_id": customer, "title": "Rechenzentrum", "amount": "5000"},
                          user="sam"), 201)
    first = ok(api.post(f"/offers/{new_offer(api, setup)['id']}/submit", {}, user="sam"))
    named = new_offer(api, setup, opportunity_id=project["id"])
    assert named["opportunity_id"] == project["id"]
    assert api.delete(f"/offers/{named['id']}", user="sam").status_code == 204
    assert ok(api.get(f"/opportunities/{project['id']}", user="sam"))["state"] == "open"
    second = ok(api.post(f"/offers/{new_offer(api, setup)['id']}/submit", {}, user="sam"))
    prefix, sequence = first["number"].rsplit("-", 1)
    assert second["number"] == f"{prefix}-{int(sequence) + 1:0{len(sequence)}d}"


def test_the_upgrade_removes_the_opportunities_that_drafts_opened_before(api, kontor):
    """Before, every draft opened an opportunity: the migration takes those of drafts never submitted
    out of the pipeline, and keeps every opportunity that is more than that."""
    setup = sales_setup(api)
    customer = setup["customer"]["id"]

    def old_style_draft(title: str, **opportunity) -> tuple[dict, dict]:
        draft = new_offer(api, setup, title=title)
        made = ok(api.post("/opportunities", {"customer_id": customer, "title": title, "amount": "1200",
                                              "phase": "offer", **opportunity}, user="sam"), 201)
        with kontor.transaction() as session:
            session.execute(update(Offer).where(Offer.id == draft["id"]).values(opportunity_id=made["id"]))
        return draft, made

    throwaway, its_opportunity = old_style_draft("Wegwerf")
    withdrawn, withdrawn_opportunity = old_style_draft("Zurückgezogen")
    ok(api.post(f"/offers/{withdrawn['id']}/withdraw", user="sam"))
    renamed, kept_renamed = old_style_draft("Anders")
    ok(api.patch(f"/opportunities/{kept_renamed['id']}", {"title": "Großprojekt", "version": 1}, user="sam"))
    shared, kept_shared = old_style_draft("Geteilt")
    new_offer(api, setup, title="Geteilt", opportunity_id=kept_shared["id"])
    before = offer_phase(api)

    path = Path(__file__).parent.parent / "migrations" / "versions" / "0019_versions_of_contacts_leads_products.py"
    spec = importlib.util.spec_from_file_location("migration_0019", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with kontor.engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        migration.remove_opportunities_of_unsubmitted_drafts()

    for draft, gone in ((throwaway, its_opportunity), (withdrawn, withdrawn_opportunity)):
        assert api.get(f"/opportunities/{gone['id']}", user="sam").status_code == 404
        assert ok(api.get(f"/offers/{draft['id']}", user="sam"))["opportunity_id"] is None
    for draft, kept in ((renamed, kept_renamed), (shared, kept_shared)):
        assert ok(api.get(f"/opportunities/{kept['id']}", user="sam"))["state"] == "open"
        assert ok(api.get(f"/offers/{draft['id']}", user="sam"))["opportunity_id"] == kept["id"]
    assert offer_phase(api) == (before[0] - 2, before[1] - Decimal("2400"))
