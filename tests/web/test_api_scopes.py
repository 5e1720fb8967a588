"""API tokens have scopes and an optional expiry, chosen when an admin creates them and shown
on the tokens page; tokens made before scopes existed keep what they could do."""

from __future__ import annotations

from datetime import timedelta

import flask_migrate
import pytest
from sqlalchemy import select, text

from portal.database import commit, db, utcnow
from portal.models import Account, ApiToken
from portal.services import publishing
from portal.services.errors import DomainError
from tests.factories import AccountFactory, AdminFactory
from tests.publishing import listed_advocate, reference_db  # noqa: F401
from tests.web.pages import field_error, parse, submit


def bearer(plain: str) -> dict:
    return {"Authorization": f"Bearer {plain}"}


def token_with(*scopes: str, **values) -> str:
    _token, plain = publishing.create_token(AdminFactory(), "A system", list(scopes), **values)
    commit()
    return plain


def report_at_risk(client, account: Account, plain: str):
    return client.post(f"/api/v1/accounts/{account.id}/health", json={"status": "at_risk"}, headers=bearer(plain))


def test_a_read_token_cannot_mark_an_account_at_risk(client, db, reference_db):
    reader = token_with("advocates:read")
    account = AccountFactory()
    commit()

    response = report_at_risk(client, account, reader)

    assert response.status_code == 403
    assert "accounts:write" in response.json["error"]["detail"]
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert db.session.get(Account, account.id).at_risk is False
    assert client.get("/api/v1/advocates", headers=bearer(reader)).status_code == 200


def test_a_health_token_cannot_read_advocates(client, db, reference_db):
    writer = token_with("accounts:write")
    listed_advocate()
    assert client.get("/api/v1/advocates", headers=bearer(writer)).status_code == 403
    assert report_at_risk(client, AccountFactory(), writer).status_code == 200


def test_an_expired_token_stops_working(client, db, reference_db):
    plain = token_with("advocates:read", expires_on=utcnow().date() + timedelta(days=1))
    assert client.get("/api/v1/advocates", headers=bearer(plain)).status_code == 200
    token = db.session.scalar(select(ApiToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    commit()
    response = client.get("/api/v1/advocates", headers=bearer(plain))
    assert response.status_code == 401


def test_a_token_needs_a_scope_and_a_future_expiry(db):
    with pytest.raises(DomainError) as no_scope:
        publishing.create_token(AdminFactory(), "x", [])
    assert no_scope.value.field == "scopes"
    with pytest.raises(DomainError) as past:
        publishing.create_token(AdminFactory(), "x", ["advocates:read"], expires_on=utcnow().date())
    assert past.value.field == "expires_on"
    token, _plain = publishing.create_token(AdminFactory(), "x", ["advocates:read", "nonsense"])
    assert token.scopes == ["advocates:read"]


def test_the_tokens_page_chooses_and_shows_scopes_and_expiry(client, db, login_as):
    login_as(AdminFactory())
    html = client.get("/admin/publishing/tokens").text
    assert {"advocates:read", "accounts:write"} <= {e.attrs.get("value") for e in parse(html).elements if e.attrs.get("name") == "scopes"}

    refused = submit(client, html, "/admin/publishing/tokens", name="CRM sync", scopes=[])
    assert refused.status_code == 422
    # beside the group of checkboxes, which names it in its aria-describedby
    assert '<small id="scopes-error" class="field-error">Choose what the token may do.</small>' in refused.text
    assert 'aria-describedby="scopes-error ' in refused.text
    past = submit(client, html, "/admin/publishing/tokens", name="CRM sync", scopes=["advocates:read"], expires_on="2020-01-01")
    assert past.status_code == 422
    assert "after today" in field_error(past.text, "/admin/publishing/tokens", "expires_on")

    until = (utcnow().date() + timedelta(days=30)).isoformat()
    created = submit(client, html, "/admin/publishing/tokens", name="CRM sync", scopes=["advocates:read"], expires_on=until)
    assert created.status_code == 200
    token = db.session.scalar(select(ApiToken))
    assert token.scopes == ["advocates:read"] and token.expires_at.date().isoformat() > until
    page = client.get("/admin/publishing/tokens").text
    assert "<code>advocates:read</code>" in page and "accounts:write</code>" not in page
    assert f"until {token.expires_at.strftime('%Y-%m-%d')}" in page


def test_tokens_made_before_scopes_keep_both(databases):
    from tests.test_migrations import migrating_app

    with migrating_app(databases.new("token_scopes")):
        flask_migrate.upgrade(revision="5e1f0c7d2b94")
        db.session.execute(text("INSERT INTO api_tokens (name, token_hash, prefix, created_at) "
                                "VALUES ('Old feed', :h, 'ap_old', CURRENT_TIMESTAMP)"), {"h": "a" * 64})
        db.session.commit()
        flask_migrate.upgrade()
        token = db.session.scalar(select(ApiToken))
        assert token.scopes == ["advocates:read", "accounts:write"] and token.expires_at is None
        assert token.allows("advocates:read") and token.allows("accounts:write")
