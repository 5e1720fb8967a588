"""The company's team signs in with a password (argon2) or the company's OpenID Connect
single sign-on; advocates use email links."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from oidc_provider_mock import User as ProviderUser
from oidc_provider_mock import run_server_in_thread

from tests.conftest import free_port
from tests.factories import TEST_PASSWORD, AdminFactory, StaffFactory, UserFactory
from tests.web.pages import field_error, fresh, path_of, signed_in_user_id, without_tokens

PASSWORD_FORM = "/sign-in/password"
WRONG = "That email and password do not match an account."


def sign_in_with_password(client, email: str, password: str, next_url: str | None = None):
    data = {"email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(PASSWORD_FORM, data=data)


# --- passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "landing"), [(StaffFactory, "/home"), (AdminFactory, "/admin")], ids=["staff", "admin"]
)
def test_the_right_password_signs_in(client, db, factory, landing):
    user = factory()

    response = sign_in_with_password(client, user.email.upper(), TEST_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == landing
    assert signed_in_user_id(client) == str(user.id)
    assert client.get(landing).status_code == 200
    assert fresh(user).last_sign_in_at is not None


def test_a_password_sign_in_honours_an_on_site_next(client, db):
    admin = AdminFactory()
    response = sign_in_with_password(client, admin.email, TEST_PASSWORD, next_url="/admin/mailbox")
    assert response.headers["Location"] == "/admin/mailbox"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example"])
def test_a_password_sign_in_refuses_an_off_site_next(client, db, target):
    admin = AdminFactory()
    response = sign_in_with_password(client, admin.email, TEST_PASSWORD, next_url=target)
    assert response.headers["Location"] == "/admin"


def failed_attempt(app, email: str, password: str):
    """A fresh browser's failed attempt: status, the message beside the password, and the
    page with the typed address and per-session tokens blanked out."""
    client = app.test_client()
    response = sign_in_with_password(client, email, password)
    assert signed_in_user_id(client) is None
    return (
        response.status_code,
        field_error(response.text, PASSWORD_FORM, "password"),
        without_tokens(response.text).replace(email, "ADDRESS"),
    )


def test_every_failed_password_sign_in_looks_the_same(app, db):
    """Wrong password, unknown address, advocate, deactivated staff, staff without a
    password: one answer, so the form reveals nothing about who has an account."""
    staff = StaffFactory()
    advocate_with_hash = UserFactory(password_hash=StaffFactory.password_hash)
    retired = StaffFactory(active=False)
    sso_only = StaffFactory(password_hash=None)

    attempts = [
        failed_attempt(app, staff.email, "not the password at all"),
        failed_attempt(app, "nobody@example.com", TEST_PASSWORD),
        failed_attempt(app, advocate_with_hash.email, TEST_PASSWORD),
        failed_attempt(app, retired.email, TEST_PASSWORD),
        failed_attempt(app, sso_only.email, TEST_PASSWORD),
    ]

    assert attempts[0][:2] == (422, WRONG)
    assert all(attempt == attempts[0] for attempt in attempts[1:])
    for user in (staff, advocate_with_hash, retired, sso_only):
        assert fresh(user).last_sign_in_at is None
        assert fresh(user).sign_in_generation == 0


@pytest.mark.parametrize(
    ("email", "password", "field", "message"),
    [
        ("", TEST_PASSWORD, "email", "Enter your email address."),
        ("not-an-address", TEST_PASSWORD, "email", "Enter an email address like name@company.com."),
        ("staff@example.com", "", "password", "Enter your password."),
    ],
    ids=["empty-email", "invalid-email", "empty-password"],
)
def test_bad_input_is_answered_beside_the_field(client, db, email, password, field, message):
    StaffFactory(email="staff@example.com")

    response = sign_in_with_password(client, email, password)

    assert response.status_code == 422
    assert field_error(response.text, PASSWORD_FORM, field) == message
    assert signed_in_user_id(client) is None
    with client.session_transaction() as session:
        assert set(session) <= {"csrf_token"}  # nothing but the form's own token


def test_the_typed_password_is_never_echoed(client, db):
    staff = StaffFactory()
    response = sign_in_with_password(client, staff.email, "hunter2-my-real-password")
    assert response.status_code == 422
    assert "hunter2-my-real-password" not in response.text


# --- single sign-on -------------------------------------------------------------------------

UNVERIFIED = "unverified@example.com"


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def oidc_provider():
    """A real OpenID Connect provider on localhost, with the portal registered as a client
    (so the provider checks its secret and redirect URI). Any ``sub`` it is given becomes a
    user whose email claim is that ``sub``; one predefined user has an unverified email."""
    users = [ProviderUser(sub=UNVERIFIED, claims={"email": UNVERIFIED, "email_verified": False})]
    with run_server_in_thread(port=free_port(), require_client_registration=True, user_claims=users) as server:
        issuer = f"http://localhost:{server.server_port}"
        registered = requests.post(
            f"{issuer}/oauth2/clients",
            json={"redirect_uris": ["http://portal.test/sign-in/sso/callback"]},
            timeout=10,
        )
        assert registered.status_code == 201, registered.text
        client = registered.json()
        yield Provider(issuer, client["client_id"], client["client_secret"])


def sso_config(app_config, issuer: str, client_id: str, client_secret: str) -> dict:
    # Given to create_app: it decides OIDC_ENABLED and registers the client from these.
    return {**app_config, "OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": client_id, "OIDC_CLIENT_SECRET": client_secret}


def choose_account(client, sub: str, start: str = "/sign-in/sso") -> str:
    """Start single sign-on at the portal, then do at the provider what the person does
    there (submit its form with the account ``sub``). Returns the on-site path of the
    callback the provider sends the browser back to."""
    to_provider = client.get(start)
    assert to_provider.status_code == 302
    authorize_url = to_provider.headers["Location"]
    chosen = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert chosen.status_code == 302, chosen.text
    callback = chosen.headers["Location"]
    assert callback.startswith("http://portal.test/sign-in/sso/callback?")  # from BASE_URL
    return path_of(callback)


class TestSingleSignOn:
    @pytest.fixture
    def app_config(self, app_config, oidc_provider):
        return sso_config(app_config, oidc_provider.issuer, oidc_provider.client_id, oidc_provider.client_secret)

    @staticmethod
    def sign_in(client, sub: str, start: str = "/sign-in/sso"):
        """Portal → provider (the person picks ``sub``) → back to the portal's callback."""
        return client.get(choose_account(client, sub, start))

    def test_the_sign_in_page_offers_it(self, client, db):
        page = client.get("/sign-in")
        assert "Sign in with company single sign-on" in page.text

    def test_the_portal_sends_people_to_the_provider(self, client, db, oidc_provider):
        response = client.get("/sign-in/sso")

        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{oidc_provider.issuer}/oauth2/authorize"
        query = parse_qs(location.query)
        assert query["client_id"] == [oidc_provider.client_id]
        assert query["redirect_uri"] == ["http://portal.test/sign-in/sso/callback"]  # from BASE_URL
        assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
        assert query["state"] and query["nonce"]

    def test_staff_sign_in(self, client, db):
        staff = StaffFactory(email="casey@example.com")

        response = self.sign_in(client, "casey@example.com")

        assert response.status_code == 302
        assert response.headers["Location"] == "/home"
        assert signed_in_user_id(client) == str(staff.id)
        assert "casey@example.com" in client.get("/home").text

    def test_admin_sign_in_returns_to_next(self, client, db):
        admin = AdminFactory(email="lead@example.com", password_hash=None)

        response = self.sign_in(client, "Lead@Example.com", start="/sign-in/sso?next=/admin/mailbox")

        assert response.headers["Location"] == "/admin/mailbox"
        assert signed_in_user_id(client) == str(admin.id)

    def test_an_address_without_an_account_is_refused(self, client, db):
        response = self.sign_in(client, "stranger@example.com")

        assert response.status_code == 302
        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        page = client.get("/sign-in")
        assert "There is no portal account for this address" in page.text

    def test_a_deactivated_user_is_refused(self, client, db):
        staff = StaffFactory(email="gone@example.com", active=False)

        response = self.sign_in(client, staff.email)

        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert "There is no portal account for this address" in client.get("/sign-in").text
        assert fresh(staff).last_sign_in_at is None

    def test_an_unverified_email_is_refused(self, client, db):
        StaffFactory(email=UNVERIFIED)

        response = self.sign_in(client, UNVERIFIED)

        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert "did not share a verified email address" in client.get("/sign-in").text

    def test_a_callback_that_the_portal_did_not_start_is_refused(self, client, db):
        """A forged callback (state not from this browser's session) signs nobody in."""
        StaffFactory(email="casey@example.com")
        response = client.get("/sign-in/sso/callback?code=stolen&state=forged")

        assert response.status_code == 302
        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert "Single sign-on did not complete" in client.get("/sign-in").text

    def test_a_callback_replayed_in_another_browser_is_refused(self, app, client, db):
        StaffFactory(email="casey@example.com")
        callback = choose_account(client, "casey@example.com")

        attacker = app.test_client()
        response = attacker.get(callback)

        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(attacker) is None



class TestSingleSignOnWithTheWrongSecret:
    @pytest.fixture
    def app_config(self, app_config, oidc_provider):
        return sso_config(app_config, oidc_provider.issuer, oidc_provider.client_id, "not-the-secret")

    def test_the_provider_refuses_and_nobody_is_signed_in(self, client, db):
        StaffFactory(email="casey@example.com")

        response = client.get(choose_account(client, "casey@example.com"))

        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert "Single sign-on did not complete" in client.get("/sign-in").text


def test_sso_is_not_found_when_not_configured(client, db):
    assert client.get("/sign-in/sso").status_code == 404
    assert client.get("/sign-in/sso/callback?code=x&state=y").status_code == 404
    assert "single sign-on" not in client.get("/sign-in").text


class TestSingleSignOnWhenTheProviderIsDown:
    """The provider is someone else's server: when it is unreachable people get a way on,
    not the portal's 500 page."""

    @pytest.fixture
    def provider_port(self):
        return free_port()

    @pytest.fixture
    def app_config(self, app_config, provider_port):
        return sso_config(app_config, f"http://localhost:{provider_port}", "advocate-portal", "provider-secret")

    def test_starting_sign_in_explains_and_offers_the_password(self, client, db):
        response = client.get("/sign-in/sso")

        assert response.status_code == 302
        assert response.headers["Location"] == "/sign-in"
        page = client.get("/sign-in")
        assert "Single sign-on is not available right now" in page.text
        assert 'action="/sign-in/password"' in page.text

    def test_finishing_sign_in_explains(self, client, db, provider_port):
        StaffFactory(email="casey@example.com")
        with run_server_in_thread(port=provider_port):
            callback = choose_account(client, "casey@example.com")
        # The provider went away between the person choosing an account and the portal
        # redeeming the code.
        response = client.get(callback)

        assert response.status_code == 302
        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert "Single sign-on is not available right now" in client.get("/sign-in").text
