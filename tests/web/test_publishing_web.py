"""The team's publishing page, API tokens, and /api/v1 (health in, advocates out)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.database import commit, db, utcnow
from portal.models import Account, ActivityType, Advocate, ApiToken, AuditEvent, ConsentPurpose, OutboxKind, OutboxMessage
from portal.services import asks, publishing
from tests.factories import AdminFactory, AdvocateFactory, StaffFactory, TermFactory, UserFactory
from tests.publishing import listed_advocate, published, reference_db  # noqa: F401
from tests.web.intake import flashes, queries_to_render
from tests.web.pages import field_error, parse, submit


def api_token(name="CS feed") -> str:
    _token, plain = publishing.create_token(AdminFactory(), name)
    commit()
    return plain


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- the team's page -------------------------------------------------------------------------


def test_the_publishing_page_shows_the_feed_and_a_retry_delivers(client, db, login_as, reference_db):
    admin = login_as(AdminFactory())
    advocate = listed_advocate()
    failing = OutboxMessage(kind=OutboxKind.REFERENCE_PUBLISH, advocate_id=advocate.id, payload={"advocate_id": advocate.id},
                            attempts=3, last_error="OperationalError: connection refused",
                            next_attempt_at=utcnow().replace(year=utcnow().year + 1))
    db.session.add(failing)
    commit()

    html = client.get("/admin/publishing").text
    assert "OperationalError: connection refused" in html
    assert "a rebuild would change nothing" in html
    response = submit(client, html, f"/admin/publishing/events/{failing.id}/retry")
    assert response.status_code == 302
    db.session.refresh(failing)
    assert failing.status.value == "sent"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "publishing.retry")) is not None
    assert "No failures" in client.get("/admin/publishing").text


def test_the_publishing_page_says_when_the_reference_database_is_down(app, client, db, login_as, reference_db):
    login_as(AdminFactory())
    app.config["REFERENCE_DATABASE_URL"] = "sqlite:////nonexistent-folder/reference.sqlite3"
    html = client.get("/admin/publishing").text
    assert "does not answer" in html
    assert "cannot be checked" in html
    response = client.post("/admin/publishing/rebuild", follow_redirects=True)
    assert response.status_code == 200
    assert any("did not answer" in f for f in flashes(response.text))


def test_rebuild_now_repairs_and_is_audited(client, db, login_as, reference_db):
    login_as(AdminFactory())
    advocate = listed_advocate()
    from portal import reference

    with reference.engine().begin() as conn:
        conn.execute(reference.advocates.delete())
    html = client.get("/admin/publishing").text
    assert "Missing: would be added" in html
    response = client.post("/admin/publishing/rebuild", follow_redirects=True)
    assert any("1 rows corrected" in f for f in flashes(response.text))
    assert published(advocate.id) is not None


def test_retry_of_an_unknown_event_says_so(client, db, login_as):
    login_as(AdminFactory())
    response = client.post("/admin/publishing/events/999999/retry", follow_redirects=True)
    assert any("No such publish event" in f for f in flashes(response.text))


@pytest.mark.parametrize("factory", [UserFactory, StaffFactory])
def test_publishing_actions_are_for_admins_only(client, db, login_as, factory):
    login_as(factory())
    for path in ("/admin/publishing/retry-all", "/admin/publishing/rebuild", "/admin/publishing/tokens",
                 "/admin/publishing/tokens/1/revoke"):
        assert client.post(path).status_code == 403


# --- API tokens --------------------------------------------------------------------------------


def test_an_admin_creates_a_token_shown_once_and_stored_hashed(client, db, login_as):
    login_as(AdminFactory())
    html = client.get("/admin/publishing/tokens").text
    assert "No tokens yet" in html
    response = submit(client, html, "/admin/publishing/tokens", name="Gainsight health feed")
    assert response.status_code == 200
    plain = next(e.text.strip() for e in parse(response.text).elements if e.attrs.get("id") == "new-token")
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == publishing.hash_token(plain) and plain not in token.token_hash
    assert plain not in client.get("/admin/publishing/tokens").text  # never shown again


def test_a_token_needs_a_name(client, db, login_as):
    login_as(AdminFactory())
    html = client.get("/admin/publishing/tokens").text
    response = submit(client, html, "/admin/publishing/tokens", name="  ")
    assert response.status_code == 422
    assert "Name the system" in field_error(response.text, "/admin/publishing/tokens", "name")
    assert db.session.scalar(select(ApiToken)) is None


def test_the_api_refuses_missing_wrong_and_revoked_tokens(client, db, login_as, reference_db):
    plain = api_token()
    assert client.get("/api/v1/advocates").status_code == 401
    assert client.get("/api/v1/advocates", headers=bearer("ap_wrong")).status_code == 401
    assert client.get("/api/v1/advocates", headers={"Authorization": plain}).status_code == 401
    response = client.get("/api/v1/advocates", headers=bearer(plain))
    assert response.status_code == 200

    login_as(AdminFactory())
    token = db.session.scalar(select(ApiToken))
    html = client.get("/admin/publishing/tokens").text
    submit(client, html, f"/admin/publishing/tokens/{token.id}/revoke")
    response = client.get("/api/v1/advocates", headers=bearer(plain))
    assert response.status_code == 401
    assert response.json["error"]["title"] == "Not signed in"
    assert client.post("/api/v1/accounts/1/health", json={"status": "at_risk"}, headers=bearer(plain)).status_code == 401
    assert client.post("/admin/publishing/tokens/999999/revoke").status_code == 404


# --- account health ------------------------------------------------------------------------------


def test_an_account_at_risk_pauses_asks_and_is_listed_unavailable_until_it_recovers(client, db, reference_db):
    plain = api_token()
    advocate = listed_advocate()
    account_id = advocate.account_id

    response = client.post(f"/api/v1/accounts/{account_id}/health", json={"status": "at_risk", "note": "Renewal at risk"},
                           headers=bearer(plain))
    assert response.status_code == 200
    assert response.json == {"account_id": account_id, "status": "at_risk", "approved_advocates": 1}
    assert db.session.get(Account, account_id).at_risk is True
    assert published(advocate.id)["unavailable_reason"] == "account_at_risk"
    call = ActivityType(key="call_h", name="Reference call", purpose=ConsentPurpose.REFERENCE_CALLS)
    db.session.add(call)
    db.session.flush()
    assert "account_at_risk" in asks.check(db.session.get(Advocate, advocate.id), call).codes

    response = client.post(f"/api/v1/accounts/{account_id}/health", json={"status": "healthy"}, headers=bearer(plain))
    assert response.json["status"] == "healthy"
    assert published(advocate.id)["available_now"] is True
    assert "account_at_risk" not in asks.check(db.session.get(Advocate, advocate.id), call).codes
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.health")) is not None


@pytest.mark.parametrize("body", [None, [], {"status": "sad"}, {}, {"status": "at_risk", "note": 5}])
def test_a_bad_health_report_is_refused_with_the_field(client, db, body):
    plain = api_token()
    account = AdvocateFactory().account
    commit()
    response = client.post(f"/api/v1/accounts/{account.id}/health", json=body, headers=bearer(plain))
    assert response.status_code == 422
    assert response.json["error"]["fields"]
    assert db.session.get(Account, account.id).at_risk is False


def test_a_health_report_for_an_unknown_account_is_404(client, db):
    response = client.post("/api/v1/accounts/999999/health", json={"status": "at_risk"}, headers=bearer(api_token()))
    assert response.status_code == 404


# --- reading advocates ------------------------------------------------------------------------------


def test_the_api_lists_published_rows_only_with_filters_and_pages(client, db, reference_db):
    plain = api_token()
    ledger = TermFactory(name="Ledger Cloud")
    listed = [listed_advocate(products=[ledger]) for _ in range(3)]
    other = listed_advocate()
    AdvocateFactory(products=[ledger])  # no consent: never listed
    commit()

    response = client.get("/api/v1/advocates?per_page=2", headers=bearer(plain))
    assert response.status_code == 200
    assert response.json["total"] == 4 and len(response.json["items"]) == 2
    second = client.get(response.json["next"], headers=bearer(plain)).json
    assert len(second["items"]) == 2 and second["next"] is None
    seen = {i["advocate_id"] for i in response.json["items"] + second["items"]}
    assert seen == {a.id for a in listed} | {other.id}

    by_product = client.get("/api/v1/advocates?product=ledger cloud", headers=bearer(plain)).json
    assert {i["advocate_id"] for i in by_product["items"]} == {a.id for a in listed}
    assert by_product["items"][0]["products"] == ["Ledger Cloud"]
    assert by_product["items"][0]["story"] is None


def test_unknown_filters_are_refused_with_the_reason(client, db, reference_db):
    plain = api_token()
    response = client.get("/api/v1/advocates?product=Nope&per_page=500&available_now=maybe", headers=bearer(plain))
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"product", "per_page", "available_now"}


def test_the_openapi_file_is_served(client, db):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/advocates", "/api/v1/accounts/{account_id}/health"} <= set(spec["paths"])


# --- bounded queries ------------------------------------------------------------------------------


def _failing_events(n):
    for _ in range(n):
        advocate = listed_advocate()
        db.session.add(OutboxMessage(kind=OutboxKind.REFERENCE_PUBLISH, advocate_id=advocate.id, payload={},
                                     attempts=1, last_error="OperationalError: down",
                                     next_attempt_at=utcnow().replace(year=utcnow().year + 1)))


def _tokens(n):
    admin = AdminFactory()
    for i in range(n):
        publishing.create_token(admin, f"System {i}")


@pytest.mark.parametrize(("path", "add"), [("/admin/publishing", _failing_events), ("/admin/publishing/tokens", _tokens)])
def test_publishing_pages_send_as_many_queries_for_30_rows_as_for_3(client, db, login_as, reference_db, path, add):
    login_as(AdminFactory())
    add(3)
    few = queries_to_render(client, path)
    add(27)
    many = queries_to_render(client, path)
    assert len(many) == len(few)


def test_the_advocates_api_sends_as_many_queries_for_30_rows_as_for_3(client, db, reference_db):
    plain = api_token()
    for _ in range(3):
        listed_advocate(products=[TermFactory()])
    commit()
    db.session.expunge_all()
    from tests.web.intake import statements

    with statements() as few:
        assert client.get("/api/v1/advocates?per_page=50", headers=bearer(plain)).status_code == 200
    for _ in range(27):
        listed_advocate(products=[TermFactory()])
    commit()
    db.session.expunge_all()
    with statements() as many:
        assert len(client.get("/api/v1/advocates?per_page=50", headers=bearer(plain)).json["items"]) == 30
    assert len(many) == len(few)


def test_retry_all_delivers_every_waiting_change(client, db, login_as, reference_db):
    login_as(AdminFactory())
    _failing_events(3)
    commit()
    html = client.get("/admin/publishing").text
    assert "3 failing" in html
    response = submit(client, html, "/admin/publishing/retry-all")
    assert response.status_code == 302
    assert "No failures" in client.get("/admin/publishing").text
    assert publishing.feed_status().pending == 0
