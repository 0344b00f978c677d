"""Who may do what, per operation of the OpenAPI document: the least privileged user who may (and the
2xx they get), what a portal user of customer A gets on customer B's records, and what a salesperson
who does not own customer B gets. Without a token everything under /api/v1 answers 401, except the
token route. README's "Who may do what" is this table in words."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.role_matrix_world import ADMIN, CAMT, ME, PDF, PORTAL_B, World, collection_day, later, this_month


@dataclass(frozen=True)
class Call:
    """One request: the path under /api/v1 with the record filled in, a valid body or form, and a
    GET (as ops) that shows the record, which the refused attempts must leave as it was."""
    path: str
    json: dict | None = None
    params: dict | None = None
    form: dict | None = None
    files: dict | None = None
    probe: str | None = None
    ends_tokens: bool = False  # the call ends its caller's tokens (/me): the next call logs in again


@dataclass(frozen=True)
class Entry:
    may: str  # (d) the least privileged user who may
    ok: int  # … and the 2xx they get
    portal: int  # (b) a portal user of customer A, on customer B's records
    stranger: int  # (c) a salesperson who does not own customer B
    call: Callable[[World], Call]  # called once per entry: fresh records for the writes
    anonymous: int = 401  # (a) no token


def read_b(may: str, call) -> Entry:
    """Customer B's data: every member of staff reads it; a portal user of another customer finds nothing."""
    return Entry(may, 200, 404, 200, call)


def change_b(ok: int, call, may: str = "sam") -> Entry:
    """A change of customer B's records: its salesperson (or a manager); nothing for anyone else."""
    return Entry(may, ok, 404, 403, call)


def staff_read(may: str, call) -> Entry:
    return Entry(may, 200, 403, 200, call)


def ops(ok: int, call, may: str = "olga") -> Entry:
    return Entry(may, ok, 403, 403, call)


def task(call) -> Entry:
    """A task of B's offer: its candidates (the approval level's group); for others it does not exist."""
    return Entry("tara", 200, 404, 404, call)


def fresh(make: Callable[[World], int], build: Callable[[World, int], Call]) -> Callable[[World], Call]:
    """A call on a record made for this entry alone."""
    return lambda w: build(w, make(w))


def offer_change(path: str = "", body=None, make: Callable[[World], int] = World.draft_offer,
                 versioned: bool = False) -> Callable:
    """A call on a fresh offer; `versioned`: the body names the version just read (a change of its content)."""
    def build(w: World, offer_id: int) -> Call:
        json = body(w) if callable(body) else body
        if versioned:
            json = {**(json or {}), "version": w.api.version(f"/offers/{offer_id}")}
        return Call(f"/offers/{offer_id}{path}", json=json, probe=f"/offers/{offer_id}")
    return fresh(make, build)


def invoicing(ok: int, call) -> Entry:
    """Invoices are drafted, issued and corrected by accounting (or a manager): B's salesperson may not;
    for a portal user invoicing does not exist."""
    return Entry("alma", ok, 404, 403, call)


def accounting(ok: int, call) -> Entry:
    """The DATEV hand-over: accounting (or a manager) only; for everyone else a 403, as other exports."""
    return Entry("alma", ok, 403, 403, call)


def invoice_change(path: str = "", body=None, make: Callable[[World], int] = World.invoice_draft,
                   versioned: bool = False) -> Callable:
    def build(w: World, invoice_id: int) -> Call:
        json = body
        if versioned:
            json = {**(json or {}), "version": w.api.version(f"/invoices/{invoice_id}")}
        return Call(f"/invoices/{invoice_id}{path}", json=json, probe=f"/invoices/{invoice_id}")
    return fresh(make, build)


def on_task(action: str, body: dict | None = None, claimed_by: str | None = None) -> Callable:
    return fresh(lambda w: w.approval_task(claimed_by), lambda w, task_id: Call(
        f"/tasks/{task_id}/{action}", json=body, probe=f"/tasks/{task_id}"))


def on_demo(action: str, suspended: bool = False, body: dict | None = None) -> Callable:
    return fresh(lambda w: w.demo(suspended), lambda w, instance_id: Call(
        f"/process-instances/{instance_id}/{action}", json=body, probe=f"/process-instances/{instance_id}"))


def on_opportunity(rest: str, body: dict) -> Callable:
    return fresh(World.opportunity, lambda w, opportunity_id: Call(
        f"/opportunities/{opportunity_id}{rest}", json=body, probe=f"/opportunities/{opportunity_id}"))


def on_lead(rest: str, body: dict) -> Callable:
    return fresh(World.lead, lambda w, lead_id: Call(f"/leads/{lead_id}{rest}", json=body, probe=f"/leads/{lead_id}"))


def b(w: World, rest: str = "") -> str:
    return f"/customers/{w['customer_b']}{rest}"


def new_phase(w: World) -> Call:
    return Call("/opportunity-phases/review", json={"name": "Prüfung", "position": 25, "probability": 30},
                probe="/opportunity-phases")


def upload_to_b(w: World) -> Call:
    return Call("/documents", form={"owner_type": "customer", "owner_id": str(w["customer_b"]),
                                    "visible_to_customer": "true"},
                files={"file": ("Preisblatt.pdf", PDF, "application/pdf")},
                probe=f"/documents?customer_id={w['customer_b']}")


def admin(ok: int, call) -> Entry:
    return Entry(ADMIN, ok, 403, 403, call)


def on_user(rest: str, body: dict | None = None, method_make=World.user) -> Callable:
    """A call on a user made for this entry alone (probed as the admin)."""
    return fresh(method_make, lambda w, user_id: Call(f"/users/{user_id}{rest}", json=body))


def me(path: str, json: dict | None = None, ends_tokens: bool = False) -> Callable:
    return lambda w: Call(f"/me{path}", json=json, ends_tokens=ends_tokens)


V1 = "/api/v1"
MATRIX: dict[tuple[str, str], Entry] = {
    # ---------------------------------------------------------------- sign-in and the process API
    ("POST", f"{V1}/auth/token"): Entry("sam", 200, 200, 200, lambda w: Call(
        "/auth/token", form={"username": "sam", "password": "sam-password"}), anonymous=200),
    # ---------------------------------------------------------------- users: administrators; /me: everyone
    ("POST", f"{V1}/users"): admin(201, lambda w: Call("/users", json={
        "username": w.unique("neu-matrix"), "password": "first-password-1", "groups": ["sales"]})),
    ("GET", f"{V1}/users"): admin(200, lambda w: Call("/users")),
    ("GET", f"{V1}/users/{{user_id}}"): admin(200, lambda w: Call(f"/users/{w['user']}")),
    ("GET", f"{V1}/users/{{user_id}}/audit"): admin(200, lambda w: Call(f"/users/{w['user']}/audit")),
    ("PUT", f"{V1}/users/{{user_id}}/groups"): admin(200, on_user("/groups", {"groups": ["sales", "ops"],
                                                                                "version": 1})),
    ("POST", f"{V1}/users/{{user_id}}/deactivate"): admin(200, on_user("/deactivate")),
    ("POST", f"{V1}/users/{{user_id}}/reactivate"): admin(200, on_user("/reactivate", method_make=World.former_user)),
    ("POST", f"{V1}/users/{{user_id}}/password"): admin(200, on_user("/password", {"password": "one-time-pass-1"})),
    ("GET", f"{V1}/me"): Entry(PORTAL_B, 200, 200, 200, me("")),
    # the current password is the one of who may (ME): anyone else's is wrong, a failed login
    ("POST", f"{V1}/me/password"): Entry(ME, 200, 422, 422, me("/password", {
        "current_password": f"{ME}-password", "new_password": "a-new-password-2"}, ends_tokens=True)),
    ("POST", f"{V1}/me/logout-everywhere"): Entry(PORTAL_B, 200, 200, 200, me("/logout-everywhere",
                                                                              ends_tokens=True)),
    ("GET", f"{V1}/process-definitions"): Entry("ivan", 200, 403, 200, lambda w: Call("/process-definitions")),
    ("POST", f"{V1}/process-instances"): Entry("ivan", 201, 403, 201, lambda w: Call(
        "/process-instances", json={"process": "demo_request", "data": {"amount": 250, "request_id": "R-m"}},
        probe="/process-instances")),
    ("GET", f"{V1}/process-instances"): Entry("sam", 200, 200, 200, lambda w: Call("/process-instances")),
    # instances and tasks show to who is involved in them (ops: all), not to every reader of the customer
    ("GET", f"{V1}/process-instances/{{instance_id}}"): Entry("sam", 200, 404, 404, lambda w: Call(
        f"/process-instances/{w['instance']}")),
    ("POST", f"{V1}/process-instances/{{instance_id}}/suspend"): ops(200, on_demo("suspend")),
    ("POST", f"{V1}/process-instances/{{instance_id}}/resume"): ops(200, on_demo("resume", suspended=True)),
    ("POST", f"{V1}/process-instances/{{instance_id}}/cancel"): ops(200, on_demo("cancel", body={"reason": "test"})),
    ("GET", f"{V1}/tasks"): Entry("tara", 200, 200, 200, lambda w: Call("/tasks")),
    ("GET", f"{V1}/tasks/{{task_id}}"): task(lambda w: Call(f"/tasks/{w['task']}")),
    ("POST", f"{V1}/tasks/{{task_id}}/claim"): task(on_task("claim")),
    ("POST", f"{V1}/tasks/{{task_id}}/unclaim"): task(on_task("unclaim", claimed_by="tara")),
    ("POST", f"{V1}/tasks/{{task_id}}/delegate"): task(on_task("delegate", {"assignee": "tina"}, "tara")),
    ("POST", f"{V1}/tasks/{{task_id}}/complete"): task(on_task("complete", {"data": {"decision": "approve"}})),
    ("POST", f"{V1}/messages"): Entry("ivan", 202, 403, 202, lambda w: Call(
        "/messages", json={"name": "demo_goods_received", "correlation": {"request_id": "R-nobody"}})),
    ("GET", f"{V1}/incidents"): ops(200, lambda w: Call("/incidents")),
    ("POST", f"{V1}/incidents/{{incident_id}}/retry"): ops(200, fresh(World.incident, lambda w, incident_id: Call(
        f"/incidents/{incident_id}/retry", probe="/incidents"))),
    ("GET", f"{V1}/timers"): ops(200, lambda w: Call("/timers")),
    ("GET", f"{V1}/offline-runs"): ops(200, lambda w: Call("/offline-runs")),
    ("POST", f"{V1}/timers/{{timer_id}}/reschedule"): ops(200, fresh(World.timer, lambda w, timer_id: Call(
        f"/timers/{timer_id}/reschedule", json={"due_at": later()}, probe="/timers"))),
    # ---------------------------------------------------------------- mail
    ("GET", f"{V1}/outbox"): ops(200, lambda w: Call("/outbox")),
    ("GET", f"{V1}/outbox/{{outbox_id}}"): ops(200, lambda w: Call(f"/outbox/{w['outbox']}")),
    ("POST", f"{V1}/outbox/{{outbox_id}}/requeue"): ops(200, fresh(World.dead_letter, lambda w, mail_id: Call(
        f"/outbox/{mail_id}/requeue", probe=f"/outbox/{mail_id}"))),
    ("GET", f"{V1}/inbound-mails"): staff_read("sam", lambda w: Call("/inbound-mails")),
    ("GET", f"{V1}/inbound-mails/{{inbound_id}}"): staff_read("sam", lambda w: Call(
        f"/inbound-mails/{w['quarantined']}")),
    ("GET", f"{V1}/inbound-mails/{{inbound_id}}/source"): Entry("sam", 200, 403, 403, lambda w: Call(
        f"/inbound-mails/{w['customer_mail']}/source")),
    ("POST", f"{V1}/inbound-mails/{{inbound_id}}/route"): Entry("sam", 200, 403, 403, fresh(
        World.received_mail, lambda w, mail_id: Call(f"/inbound-mails/{mail_id}/route",
                                                     json={"customer_id": w["customer_b"]},
                                                     probe=f"/inbound-mails/{mail_id}"))),
    # ---------------------------------------------------------------- customers
    ("POST", f"{V1}/customers"): Entry("sam", 201, 403, 201, lambda w: Call(
        "/customers", json={"name": "Neukunde GmbH"}, probe="/customers")),
    ("GET", f"{V1}/customers"): Entry(PORTAL_B, 200, 200, 200, lambda w: Call("/customers")),
    ("GET", f"{V1}/customers/{{customer_id}}"): read_b(PORTAL_B, lambda w: Call(b(w))),
    ("PATCH", f"{V1}/customers/{{customer_id}}"): change_b(200, lambda w: Call(
        b(w), json={"industry": "Maschinenbau", "version": w.api.version(b(w))}, probe=b(w))),
    ("GET", f"{V1}/customers/{{customer_id}}/sites"): read_b(PORTAL_B, lambda w: Call(b(w, "/sites"))),
    ("POST", f"{V1}/customers/{{customer_id}}/sites"): change_b(201, lambda w: Call(
        b(w, "/sites"), json={"name": "Lager"}, probe=b(w, "/sites"))),
    ("GET", f"{V1}/customers/{{customer_id}}/addresses"): read_b(PORTAL_B, lambda w: Call(b(w, "/addresses"))),
    ("POST", f"{V1}/customers/{{customer_id}}/addresses"): change_b(201, lambda w: Call(
        b(w, "/addresses"), json={"kind": "billing", "street": "Postfach 1", "postal_code": "70565",
                                  "city": "Stuttgart"}, probe=b(w, "/addresses"))),
    ("GET", f"{V1}/customers/{{customer_id}}/contacts"): read_b(PORTAL_B, lambda w: Call(b(w, "/contacts"))),
    ("POST", f"{V1}/customers/{{customer_id}}/contacts"): change_b(201, lambda w: Call(
        b(w, "/contacts"), json={"last_name": "Neumann"}, probe=b(w, "/contacts"))),
    ("GET", f"{V1}/contacts"): Entry(PORTAL_B, 200, 200, 200, lambda w: Call(
        "/contacts", params={"customer_id": w["customer_b"]})),
    ("GET", f"{V1}/contacts/{{contact_id}}"): read_b(PORTAL_B, lambda w: Call(f"/contacts/{w['contact']}")),
    ("PATCH", f"{V1}/contacts/{{contact_id}}"): change_b(200, lambda w: Call(
        f"/contacts/{w['contact']}", json={"role": "Einkauf", "version": w.api.version(f"/contacts/{w['contact']}")},
        probe=f"/contacts/{w['contact']}")),
    ("GET", f"{V1}/customers/{{customer_id}}/overview"): read_b(PORTAL_B, lambda w: Call(b(w, "/overview"))),
    ("GET", f"{V1}/customers/{{customer_id}}/traces"): read_b(PORTAL_B, lambda w: Call(b(w, "/traces"))),
    ("GET", f"{V1}/customers/{{customer_id}}/notes"): read_b("sam", lambda w: Call(b(w, "/notes"))),
    # notes are internal remarks: every member of staff may add one to any customer
    ("POST", f"{V1}/customers/{{customer_id}}/notes"): Entry("sam", 201, 404, 201, lambda w: Call(
        b(w, "/notes"), json={"text": "Rückruf erbeten"}, probe=b(w, "/notes"))),
    ("GET", f"{V1}/customers/{{customer_id}}/duplicates"): read_b("sam", lambda w: Call(b(w, "/duplicates"))),
    ("POST", f"{V1}/customers/{{customer_id}}/merge"): change_b(200, fresh(World.customer, lambda w, merged: Call(
        b(w, "/merge"), json={"merged_id": merged}, probe=f"/customers/{merged}")), may="mona"),
    ("GET", f"{V1}/duplicates"): staff_read("sam", lambda w: Call("/duplicates", params={"name": "Alpha"})),
    ("GET", f"{V1}/customers/{{customer_id}}/special-conditions"): read_b(PORTAL_B, lambda w: Call(
        b(w, "/special-conditions"))),
    ("POST", f"{V1}/customers/{{customer_id}}/special-conditions"): change_b(201, lambda w: Call(
        b(w, "/special-conditions"), json={"kind": "discount_percent", "value": "3"},
        probe=b(w, "/special-conditions"))),
    # an activity is its creator's own (a call, a meeting): every member of staff records them
    ("POST", f"{V1}/activities"): Entry("sam", 201, 403, 201, lambda w: Call(
        "/activities", json={"customer_id": w["customer_b"], "kind": "meeting", "subject": "Besuch"},
        probe=f"/activities?customer_id={w['customer_b']}")),
    ("GET", f"{V1}/activities"): staff_read("sam", lambda w: Call("/activities",
                                                                  params={"customer_id": w["customer_b"]})),
    ("POST", f"{V1}/activities/{{activity_id}}/done"): Entry("sam", 200, 403, 403, fresh(
        World.activity, lambda w, activity_id: Call(f"/activities/{activity_id}/done",
                                                    probe=f"/activities?customer_id={w['customer_b']}"))),
    ("POST", f"{V1}/imports"): Entry("sam", 200, 403, 200, lambda w: Call(
        "/imports", form={"kind": "customers"}, files={"file": ("kunden.csv", b"Name\nImport GmbH\n", "text/csv")})),
    ("GET", f"{V1}/exports/{{kind}}.{{fmt}}"): staff_read("sam", lambda w: Call("/exports/customers.csv")),
    ("POST", f"{V1}/documents"): Entry("sam", 201, 403, 403, upload_to_b),  # uploads are for staff
    ("GET", f"{V1}/documents"): Entry(PORTAL_B, 200, 200, 200, lambda w: Call(
        "/documents", params={"customer_id": w["customer_b"]})),
    ("GET", f"{V1}/documents/{{document_id}}"): read_b(PORTAL_B, lambda w: Call(f"/documents/{w['document']}")),
    ("GET", f"{V1}/documents/{{document_id}}/content"): read_b(PORTAL_B, lambda w: Call(
        f"/documents/{w['document']}/content")),
    # ---------------------------------------------------------------- sales
    ("POST", f"{V1}/leads"): Entry("ivan", 201, 403, 201, lambda w: Call(
        "/leads", json={"company_name": "Anfrage KG"}, probe="/leads")),
    ("GET", f"{V1}/leads"): staff_read("ivan", lambda w: Call("/leads")),
    ("GET", f"{V1}/leads/{{lead_id}}"): staff_read("ivan", lambda w: Call(f"/leads/{w['lead']}")),
    ("PATCH", f"{V1}/leads/{{lead_id}}"): Entry("sam", 200, 403, 403, on_lead("", {"score": 80, "version": 1})),
    ("POST", f"{V1}/leads/{{lead_id}}/convert"): Entry("sam", 200, 403, 403, on_lead("/convert", {})),
    ("POST", f"{V1}/opportunities"): change_b(201, lambda w: Call(
        "/opportunities", json={"customer_id": w["customer_b"], "title": "Erweiterung", "amount": "1000"},
        probe=f"/opportunities?customer_id={w['customer_b']}")),
    ("GET", f"{V1}/opportunities"): read_b("sam", lambda w: Call(
        "/opportunities", params={"customer_id": w["customer_b"]})),
    ("GET", f"{V1}/opportunities/pipeline"): staff_read("sam", lambda w: Call("/opportunities/pipeline")),
    ("GET", f"{V1}/opportunities/{{opportunity_id}}"): read_b("sam", lambda w: Call(
        f"/opportunities/{w['opportunity']}")),
    ("PATCH", f"{V1}/opportunities/{{opportunity_id}}"): change_b(200, on_opportunity("", {"probability": 60,
                                                                                             "version": 1})),
    ("POST", f"{V1}/opportunities/{{opportunity_id}}/move"): change_b(200, on_opportunity("/move", {"phase": "offer"})),
    ("GET", f"{V1}/opportunity-phases"): Entry(PORTAL_B, 200, 200, 200, lambda w: Call("/opportunity-phases")),
    ("PUT", f"{V1}/opportunity-phases/{{key}}"): Entry("mona", 200, 403, 403, new_phase),
    ("POST", f"{V1}/opportunity-groups"): change_b(201, lambda w: Call(
        "/opportunity-groups", json={"customer_id": w["customer_b"], "name": "Varianten"})),
    # ---------------------------------------------------------------- catalog
    ("POST", f"{V1}/products"): Entry("mona", 201, 403, 403, lambda w: Call(
        "/products", json={"sku": "NEW-1", "name_de": "Schulung", "unit": "day", "tax_rate": "19"},
        probe="/products")),
    ("GET", f"{V1}/products"): Entry(PORTAL_B, 200, 200, 200, lambda w: Call("/products")),
    ("GET", f"{V1}/products/{{product_id}}"): Entry(PORTAL_B, 200, 200, 200, lambda w: Call(
        f"/products/{w['product']}")),
    ("PATCH", f"{V1}/products/{{product_id}}"): Entry("mona", 200, 403, 403, lambda w: Call(
        f"/products/{w['product']}",
        json={"name_en": "Consulting", "version": w.api.version(f"/products/{w['product']}")},
        probe=f"/products/{w['product']}")),
    ("GET", f"{V1}/products/{{product_id}}/price"): read_b(PORTAL_B, lambda w: Call(
        f"/products/{w['product']}/price", params={"customer_id": w["customer_b"], "quantity": "2"})),
    ("POST", f"{V1}/price-lists"): Entry("mona", 201, 403, 403, lambda w: Call(
        "/price-lists", json={"code": "PROMO", "name": "Aktion"}, probe="/price-lists")),
    ("GET", f"{V1}/price-lists"): staff_read("sam", lambda w: Call("/price-lists")),
    ("GET", f"{V1}/price-lists/{{price_list_id}}"): staff_read("sam", lambda w: Call(
        f"/price-lists/{w['price_list']}")),
    ("GET", f"{V1}/price-lists/{{price_list_id}}/items"): staff_read("sam", lambda w: Call(
        f"/price-lists/{w['price_list']}/items")),
    ("POST", f"{V1}/price-lists/{{price_list_id}}/items"): Entry("mona", 201, 403, 403, lambda w: Call(
        f"/price-lists/{w['price_list']}/items", json={"product_id": w.product(), "tiers": [
            {"min_quantity": "1", "unit_price": "95.00"}]}, probe=f"/price-lists/{w['price_list']}/items")),
    # ---------------------------------------------------------------- offers and orders
    ("POST", f"{V1}/offers"): change_b(201, lambda w: Call(
        "/offers", json={"customer_id": w["customer_b"], "title": "Wartung", "lines": [w.line()]},
        probe=f"/offers?customer_id={w['customer_b']}")),
    # offers and orders are internal: for a portal user not even their list exists
    ("GET", f"{V1}/offers"): read_b("sam", lambda w: Call("/offers", params={"customer_id": w["customer_b"]})),
    ("GET", f"{V1}/offers/{{offer_id}}"): read_b("sam", lambda w: Call(f"/offers/{w['offer']}")),
    ("PATCH", f"{V1}/offers/{{offer_id}}"): change_b(200, offer_change(body={"title": "Wartung 2027"}, versioned=True)),
    ("DELETE", f"{V1}/offers/{{offer_id}}"): change_b(204, offer_change()),
    ("GET", f"{V1}/offers/{{offer_id}}/lines"): read_b("sam", lambda w: Call(f"/offers/{w['offer']}/lines")),
    ("PUT", f"{V1}/offers/{{offer_id}}/lines"): change_b(200, offer_change(
        "/lines", body=lambda w: {"lines": [w.line("12")]}, versioned=True)),
    ("POST", f"{V1}/offers/{{offer_id}}/submit"): change_b(200, offer_change("/submit", body={})),
    ("POST", f"{V1}/offers/{{offer_id}}/withdraw"): change_b(200, offer_change("/withdraw")),
    ("GET", f"{V1}/offers/{{offer_id}}/revisions"): read_b("sam", lambda w: Call(f"/offers/{w['offer']}/revisions")),
    ("POST", f"{V1}/offers/{{offer_id}}/revisions"): change_b(201, offer_change(
        "/revisions", make=World.expired_offer)),
    ("GET", f"{V1}/offers/{{offer_id}}/pdf"): read_b("sam", lambda w: Call(f"/offers/{w['offer']}/pdf")),
    ("GET", f"{V1}/orders"): read_b("sam", lambda w: Call("/orders", params={"customer_id": w["customer_b"]})),
    ("GET", f"{V1}/orders/{{order_id}}"): read_b("sam", lambda w: Call(f"/orders/{w['order']}")),
    ("GET", f"{V1}/orders/{{order_id}}/deliveries"): read_b("sam", lambda w: Call(f"/orders/{w['order']}/deliveries")),
    ("POST", f"{V1}/orders/{{order_id}}/deliveries"): change_b(201, lambda w: Call(
        f"/orders/{w['order']}/deliveries", json={"lines": [{"order_line_id": w.order_line(), "quantity": "1"}]},
        probe=f"/orders/{w['order']}")),
    ("PUT", f"{V1}/orders/{{order_id}}/billing"): change_b(200, fresh(World.delivered_order, lambda w, order_id: Call(
        f"/orders/{order_id}/billing", json={"billing_plan": "on_completion"}, probe=f"/orders/{order_id}"))),
    # ---------------------------------------------------------------- invoices: accounting drafts, issues, corrects
    ("POST", f"{V1}/orders/{{order_id}}/down-payments"): invoicing(201, fresh(
        World.milestone_order, lambda w, ids: Call(f"/orders/{ids[0]}/down-payments", json={"milestone_id": ids[1]},
                                                   probe=f"/orders/{ids[0]}"))),
    ("POST", f"{V1}/invoices"): invoicing(201, fresh(World.delivered_order, lambda w, order_id: Call(
        "/invoices", json={"order_id": order_id}, probe=f"/orders/{order_id}"))),
    # a portal user lists its own customer's issued invoices (none of B's)
    ("GET", f"{V1}/invoices"): Entry("sam", 200, 200, 200, lambda w: Call(
        "/invoices", params={"customer_id": w["customer_b"]})),
    ("GET", f"{V1}/invoices/{{invoice_id}}"): read_b("sam", lambda w: Call(f"/invoices/{w['invoice']}")),
    ("PATCH", f"{V1}/invoices/{{invoice_id}}"): invoicing(200, invoice_change(body={"note": "Projekt"},
                                                                              versioned=True)),
    ("DELETE", f"{V1}/invoices/{{invoice_id}}"): invoicing(204, invoice_change()),
    ("POST", f"{V1}/invoices/{{invoice_id}}/issue"): invoicing(202, invoice_change("/issue", body={})),
    ("POST", f"{V1}/invoices/{{invoice_id}}/credit-notes"): invoicing(201, invoice_change(
        "/credit-notes", body={"reason": "Storno"}, make=World.issued_invoice)),
    ("GET", f"{V1}/invoices/{{invoice_id}}/xml"): read_b("sam", lambda w: Call(f"/invoices/{w['invoice']}/xml")),
    ("GET", f"{V1}/invoices/{{invoice_id}}/pdf"): read_b("sam", lambda w: Call(f"/invoices/{w['invoice']}/pdf")),
    # ---------------------------------------------------------------- direct debits: accounting collects
    ("POST", f"{V1}/customers/{{customer_id}}/mandates"): invoicing(201, lambda w: Call(
        b(w, "/mandates"), json={"reference": w.unique("M-NEW"), "signed_on": "2026-02-01",
                                 "debtor_name": "Beta AG", "iban": "DE02120300000000202051"},
        probe=b(w, "/mandates"))),
    # the customer's own portal users read them, the IBAN masked
    ("GET", f"{V1}/customers/{{customer_id}}/mandates"): read_b(PORTAL_B, lambda w: Call(b(w, "/mandates"))),
    ("POST", f"{V1}/mandates/{{mandate_id}}/revoke"): invoicing(200, fresh(World.mandate, lambda w, mandate_id: Call(
        f"/mandates/{mandate_id}/revoke", probe=b(w, "/mandates")))),
    ("POST", f"{V1}/direct-debits"): invoicing(201, fresh(World.issued_invoice, lambda w, invoice_id: Call(
        "/direct-debits", json={"collection_date": collection_day()}, probe=f"/invoices/{invoice_id}"))),
    ("GET", f"{V1}/direct-debits/{{run_id}}"): invoicing(200, lambda w: Call(f"/direct-debits/{w['direct_debit']}")),
    ("GET", f"{V1}/direct-debits/{{run_id}}/file"): invoicing(200, lambda w: Call(
        f"/direct-debits/{w['direct_debit']}/file")),
    # ---------------------------------------------------------------- dunning: accounting's, like invoicing
    ("POST", f"{V1}/dunning/runs"): invoicing(200, lambda w: Call("/dunning/runs", probe="/dunning")),
    ("GET", f"{V1}/dunning"): invoicing(200, lambda w: Call("/dunning")),
    ("GET", f"{V1}/dunning/{{dunning_id}}"): invoicing(200, lambda w: Call(f"/dunning/{w['dunning']}")),
    ("POST", f"{V1}/dunning/{{dunning_id}}/dispute"): invoicing(200, fresh(World.dunning_case, lambda w, case: Call(
        f"/dunning/{case}/dispute", json={"reason": "bestritten"}, probe=f"/dunning/{case}"))),
    ("GET", f"{V1}/dunning/letters/{{letter_id}}/pdf"): invoicing(200, lambda w: Call(
        f"/dunning/letters/{w['dunning_letter']}/pdf")),
    # ---------------------------------------------------------------- DATEV: internal, like exports
    ("POST", f"{V1}/exports/datev"): accounting(201, lambda w: Call("/exports/datev", json=this_month())),
    ("GET", f"{V1}/exports/datev"): accounting(200, lambda w: Call("/exports/datev")),
    ("GET", f"{V1}/exports/datev/{{export_id}}/file"): accounting(200, lambda w: Call(
        f"/exports/datev/{w['datev_export']}/file")),
    # ---------------------------------------------------------------- payments: accounting records, staff read
    ("POST", f"{V1}/payments"): invoicing(201, lambda w: Call("/payments", json={
        "customer_id": w["customer_b"], "amount": "10.00", "booking_date": "2026-12-01",
        "allocations": [{"invoice_id": w["invoice"], "amount": "10.00"}]}, probe="/payments")),
    ("GET", f"{V1}/payments"): read_b("sam", lambda w: Call("/payments", params={"customer_id": w["customer_b"]})),
    ("POST", f"{V1}/bank-statements"): Entry("alma", 202, 404, 403, lambda w: Call(
        "/bank-statements", files={"file": ("camt.xml", CAMT, "application/xml")}, probe="/bank-statements")),
    ("GET", f"{V1}/bank-statements"): read_b("sam", lambda w: Call("/bank-statements")),
    ("GET", f"{V1}/bank-statements/{{statement_id}}"): read_b("sam", fresh(World.bank_statement, lambda w, s: Call(
        f"/bank-statements/{s}"))),
    ("POST", f"{V1}/invoices/{{invoice_id}}/apply-credit"): invoicing(200, fresh(
        World.credited_invoice, lambda w, i: Call(f"/invoices/{i}/apply-credit", json={}, probe=f"/invoices/{i}"))),
    # a portal user reads its own customer's open items; B's do not exist for it
    ("GET", f"{V1}/open-items"): read_b("sam", lambda w: Call("/open-items", params={"customer_id": w["customer_b"]})),
}
