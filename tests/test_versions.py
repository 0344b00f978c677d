"""Optimistic locking over HTTP for every record that carries a version: GET answers with an ETag
and the version; a change names the version it was made from (`version` in the body or If-Match),
else 428; a stale body version is a 409, a stale If-Match a 412, both with the current ETag. Who may
not change the record gets their 403/404 first. SQLite and PostgreSQL."""
from __future__ import annotations

from api.versioning import parse_if_match
from tests.offer_support import new_offer, sales_setup
from tests.support import ok


def records(api) -> dict[str, tuple[str, dict, str]]:
    """kind → (path, a change, who may make it) for one fresh record of each versioned kind."""
    setup = sales_setup(api)
    customer = setup["customer"]["id"]
    contact = ok(api.post(f"/customers/{customer}/contacts", {"last_name": "Weber"}, user="sam"), 201)
    lead = ok(api.post("/leads", {"company_name": "Anfrage GmbH"}, user="sam"), 201)
    opportunity = ok(api.post("/opportunities", {"customer_id": customer, "title": "Ausbau", "amount": "1000"},
                              user="sam"), 201)
    offer = new_offer(api, setup)
    return {"customer": (f"/customers/{customer}", {"industry": "Maschinenbau"}, "sam"),
            "contact": (f"/contacts/{contact['id']}", {"role": "Einkauf"}, "sam"),
            "lead": (f"/leads/{lead['id']}", {"score": 70}, "sam"),
            "opportunity": (f"/opportunities/{opportunity['id']}", {"probability": 40}, "sam"),
            "product": (f"/products/{setup['products']['book']['id']}", {"name_en": "Handbook"}, "mona"),
            "offer": (f"/offers/{offer['id']}", {"title": "Netzwerk 2027"}, "sam")}


def test_every_versioned_record_has_an_etag_and_a_change_must_name_its_version(api):
    for kind, (path, change, user) in records(api).items():
        read = api.get(path, user=user)
        record_id, version = read.json()["id"], read.json()["version"]
        assert read.headers["ETag"] == f'"{kind}-{record_id}-v{version}"', kind
        blind = api.patch(path, change, user=user)
        assert blind.status_code == 428, (kind, blind.text)
        error = blind.json()["error"]
        assert error["code"] == "precondition_required" and "If-Match" in error["message"], kind
        assert error["details"] == [{"field": "version", "message": "required (or the If-Match header)"}]
        assert api.patch(path, {**change, "version": None}, user=user).status_code == 428, kind  # null is not sent
        assert api.get(path).json()["version"] == version, kind  # nothing changed

        by_etag = api.patch(path, change, user=user, headers={"If-Match": read.headers["ETag"]})
        assert by_etag.status_code == 200, (kind, by_etag.text)
        changed = by_etag.json()["version"]
        assert changed > version and by_etag.headers["ETag"] == f'"{kind}-{record_id}-v{changed}"', kind
        assert api.get(path).headers["ETag"] == by_etag.headers["ETag"], kind

        stale_etag = api.patch(path, change, user=user, headers={"If-Match": read.headers["ETag"]})
        assert stale_etag.status_code == 412, (kind, stale_etag.text)
        assert stale_etag.json()["error"]["code"] == "precondition_failed"
        assert stale_etag.headers["ETag"] == by_etag.headers["ETag"], kind
        stale_body = api.patch(path, {**change, "version": version}, user=user)
        assert stale_body.status_code == 409 and stale_body.json()["error"]["version"] == changed, kind
        assert stale_body.headers["ETag"] == by_etag.headers["ETag"], kind
        ok(api.patch(path, {**change, "version": changed}, user=user))  # the current version: accepted


def test_if_match_must_name_this_records_current_version_strongly(api):
    setup = sales_setup(api)
    path = f"/customers/{setup['customer']['id']}"
    read = api.get(path, user="sam")
    tag, other = read.headers["ETag"], sales_setup(api)["customer"]

    def change(if_match: str, **body):
        return api.patch(path, {"industry": "Handel", **body}, user="sam", headers={"If-Match": if_match})

    assert change(f"W/{tag}").status_code == 412  # If-Match compares strongly: a weak tag never matches
    assert change(f'"customer-{other["id"]}-v{other["version"]}"').status_code == 412  # another record's
    assert change('"offer-1-v1"').status_code == 412
    assert change("*").status_code == 428  # true of any version: says nothing about the one read
    unreadable = change(f"customer-{setup['customer']['id']}-v{read.json()['version']}")  # no quotes: no ETag
    assert unreadable.status_code == 412 and unreadable.json()["error"]["details"][0]["field"] == "If-Match"
    assert change(tag, version=read.json()["version"] + 1).status_code == 412  # header and body disagree
    assert api.get(path).json()["version"] == read.json()["version"]
    assert change(f'"x", {tag}').status_code == 200  # one of the listed tags is the current one


def test_who_may_not_change_the_record_is_refused_before_the_version_is_asked_for(api):
    setup = sales_setup(api)
    customer = setup["customer"]["id"]
    assert api.patch(f"/customers/{customer}", {"industry": "x"}, user="rita").status_code == 403
    assert api.patch("/customers/999999", {"industry": "x"}, user="sam").status_code == 404
    offer = new_offer(api, setup)
    assert api.patch(f"/offers/{offer['id']}", {"title": "x"}, user="rita").status_code == 403
    refused = api.patch(f"/offers/{offer['id']}", {"title": "x"}, user="rita",
                        headers={"If-Match": f'"offer-{offer["id"]}-v999"'})
    assert refused.status_code == 403 and "ETag" not in refused.headers


def test_lines_need_the_version_too_and_submit_takes_if_match(api):
    setup = sales_setup(api)
    offer = new_offer(api, setup)
    lines = {"lines": [{"product_id": setup["products"]["book"]["id"], "quantity": "2"}]}
    assert api.put(f"/offers/{offer['id']}/lines", lines, user="sam").status_code == 428
    read = api.get(f"/offers/{offer['id']}", user="sam")
    replaced = api.put(f"/offers/{offer['id']}/lines", lines, user="sam", headers={"If-Match": read.headers["ETag"]})
    assert replaced.status_code == 200 and replaced.json()["lines"][0]["sku"] == setup["products"]["book"]["sku"]
    stale = api.post(f"/offers/{offer['id']}/submit", {}, user="sam", headers={"If-Match": read.headers["ETag"]})
    assert stale.status_code == 412
    assert ok(api.post(f"/offers/{offer['id']}/submit", {}, user="sam",
                       headers={"If-Match": replaced.headers["ETag"]}))["status"] == "in_approval"


def test_the_document_names_the_precondition_answers(api):
    document = api.client.get("/openapi.json").json()
    for path, method in (("/api/v1/customers/{customer_id}", "patch"), ("/api/v1/contacts/{contact_id}", "patch"),
                         ("/api/v1/leads/{lead_id}", "patch"), ("/api/v1/products/{product_id}", "patch"),
                         ("/api/v1/opportunities/{opportunity_id}", "patch"), ("/api/v1/offers/{offer_id}", "patch"),
                         ("/api/v1/offers/{offer_id}/lines", "put")):
        operation = document["paths"][path][method]
        assert {"409", "412", "428"} <= set(operation["responses"]), path
        assert "If-Match" in [p["name"] for p in operation["parameters"]], path
    submit = document["paths"]["/api/v1/offers/{offer_id}/submit"]["post"]
    assert "412" in submit["responses"] and "428" not in submit["responses"]


def test_if_match_parsing():
    assert parse_if_match('"a", W/"b" ,"c"') == [(False, "a"), (True, "b"), (False, "c")]
    assert parse_if_match(" * ") == [(False, "*")]
    assert parse_if_match('"a" "b"') == parse_if_match("a") == []


def test_a_replayed_change_keeps_its_etag_and_another_if_match_is_another_request(api):
    setup = sales_setup(api)
    path = f"/customers/{setup['customer']['id']}"
    read = api.get(path, user="sam")
    first = api.patch(path, {"industry": "Bau"}, user="sam",
                      headers={"If-Match": read.headers["ETag"], "Idempotency-Key": "edit-1"})
    assert first.status_code == 200
    again = api.patch(path, {"industry": "Bau"}, user="sam",
                      headers={"If-Match": read.headers["ETag"], "Idempotency-Key": "edit-1"})
    assert (again.status_code, again.headers["ETag"], again.json()) == (200, first.headers["ETag"], first.json())
    other = api.patch(path, {"industry": "Bau"}, user="sam",
                      headers={"If-Match": first.headers["ETag"], "Idempotency-Key": "edit-1"})
    assert other.status_code == 422  # the same key with another request
