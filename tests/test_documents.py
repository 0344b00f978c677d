"""Documents attached to records: type from the content, size limit, SHA-256, scoping, on SQLite
and PostgreSQL."""
from __future__ import annotations

import hashlib

from tests.support import ensure_user, ok

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(api, owner_type: str, owner_id: int, name: str, content: bytes, content_type: str = "application/pdf",
           user: str = "sam", **form):
    return api.client.post("/api/v1/documents", headers=api.headers(user),
                           data={"owner_type": owner_type, "owner_id": str(owner_id), **form},
                           files={"file": (name, content, content_type)})


def file_error(response) -> str:
    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "file"
    return detail["message"]


def test_a_document_is_stored_once_with_its_hash_and_comes_back_unchanged(api, kontor):
    acme = ok(api.post("/customers", {"name": "ACME GmbH"}, user="sam"), 201)
    document = ok(upload(api, "customer", acme["id"], "Rahmenvertrag.pdf", PDF), 201)
    assert (document["content_type"], document["size"], document["sha256"]) == (
        "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest())
    assert (document["customer_id"], document["uploaded_by"]) == (acme["id"], "sam")
    download = api.client.get(f"/api/v1/documents/{document['id']}/content", headers=api.headers("rita"))
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"] == 'attachment; filename="Rahmenvertrag.pdf"'
    assert download.headers["x-content-type-options"] == "nosniff"
    contact = ok(api.post(f"/customers/{acme['id']}/contacts", {"last_name": "Berger"}, user="sam"), 201)
    again = ok(upload(api, "contact", contact["id"], "copy.pdf", PDF), 201)
    assert again["customer_id"] == acme["id"] and again["sha256"] == document["sha256"]
    stored = list((kontor.settings.data_dir / "documents").rglob(document["sha256"]))
    assert len(stored) == 1 and stored[0].read_bytes() == PDF  # the same content is kept once
    listed = ok(api.get("/documents", params={"customer_id": acme["id"]}))["items"]
    assert [d["filename"] for d in listed] == ["copy.pdf", "Rahmenvertrag.pdf"]
    assert [d["id"] for d in ok(api.get("/documents", params={"owner_type": "contact",
                                                              "owner_id": contact["id"]}))["items"]] == [again["id"]]


def test_content_that_does_not_fit_its_name_or_type_is_refused(api, kontor):
    acme = ok(api.post("/customers", {"name": "ACME GmbH"}, user="sam"), 201)
    cid = acme["id"]
    assert "declared as image/png" in file_error(upload(api, "customer", cid, "x.pdf", PDF, "image/png"))
    assert "not an allowed type" in file_error(upload(api, "customer", cid, "invoice.pdf", b"MZ\x90\x00 program"))
    assert "not an allowed type" in file_error(upload(api, "customer", cid, "photo.png", PDF))
    assert "not an allowed type" in file_error(upload(api, "customer", cid, "tool.exe", b"MZ\x90\x00\x03"))
    assert "not an allowed type" in file_error(upload(api, "customer", cid, "page.html", b"<html></html>",
                                                      "text/html"))
    assert "empty" in file_error(upload(api, "customer", cid, "empty.pdf", b""))
    limit = kontor.settings.document_max_bytes
    big = PDF + b"0" * limit
    assert "larger than" in file_error(upload(api, "customer", cid, "big.pdf", big))
    assert ok(upload(api, "customer", cid, "scan.png", PNG, "image/png"), 201)["content_type"] == "image/png"
    assert ok(upload(api, "customer", cid, "notes.txt", "Grüße".encode(), "text/plain"), 201)["size"] == 7
    assert upload(api, "customer", 999999, "x.pdf", PDF).status_code == 404
    assert upload(api, "invoice", cid, "x.pdf", PDF).status_code == 422
    assert ok(api.get("/documents", params={"customer_id": cid}))["items"][0]["filename"] == "notes.txt"
    assert ok(api.get("/documents", params={"customer_id": cid}))["total"] == 2  # nothing of the refused ones


def test_portal_users_read_only_their_customers_shared_documents(api, kontor):
    from domain.users import add_user

    own = ok(api.post("/customers", {"name": "Eigen GmbH"}, user="sam"), 201)
    other = ok(api.post("/customers", {"name": "Fremd AG"}, user="sam"), 201)
    shared = ok(upload(api, "customer", own["id"], "Angebot.pdf", PDF, visible_to_customer="true"), 201)
    internal = ok(upload(api, "customer", own["id"], "Kalkulation.pdf", PDF), 201)
    foreign = ok(upload(api, "customer", other["id"], "Fremd.pdf", PDF, visible_to_customer="true"), 201)
    with kontor.transaction() as session:
        add_user(session, "pia", "pia-password", ["portal"], customer_id=own["id"])
    assert [d["id"] for d in ok(api.get("/documents", user="pia"))["items"]] == [shared["id"]]
    assert api.client.get(f"/api/v1/documents/{shared['id']}/content", headers=api.headers("pia")).content == PDF
    for hidden in (internal, foreign):
        assert api.get(f"/documents/{hidden['id']}", user="pia").status_code == 404
        assert api.client.get(f"/api/v1/documents/{hidden['id']}/content",
                              headers=api.headers("pia")).status_code == 404
    assert upload(api, "customer", own["id"], "x.pdf", PDF, user="pia").status_code == 403
    assert api.get("/documents", user="ivan").status_code == 403


def test_only_who_may_change_a_customer_attaches_files_to_its_records(api, kontor):
    """A file on a customer's record may be shown to the customer: staff who only read the customer
    (another salesperson, ops, an approver) attach none."""
    acme = ok(api.post("/customers", {"name": "ACME GmbH"}, user="sam"), 201)
    contact = ok(api.post(f"/customers/{acme['id']}/contacts", {"last_name": "Berger"}, user="sam"), 201)
    otto = ensure_user(kontor, "otto-sales", ["sales"])
    for user in (otto, "olga", "tara"):
        for owner_type, owner_id in (("customer", acme["id"]), ("contact", contact["id"])):
            refused = upload(api, owner_type, owner_id, "Preise.pdf", PDF, user=user, visible_to_customer="true")
            assert refused.status_code == 403, (user, owner_type, refused.text)
            assert refused.json()["error"]["code"] == "forbidden"
    assert ok(api.get("/documents", params={"customer_id": acme["id"]}))["total"] == 0
    assert ok(upload(api, "contact", contact["id"], "Preise.pdf", PDF, user="mona"), 201)["uploaded_by"] == "mona"
    assert ok(api.get("/documents", params={"customer_id": acme["id"]}))["total"] == 1
