"""The company's team signs in with a password (argon2) or the company's OpenID Connect
single sign-on; advocates use email links."""

from __future__ import annotations

import base64
import html
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from oidc_provider_mock import run_server_in_thread
from sqlalchemy import select

from portal.models import UserIdentity
from tests.conftest import free_port
from tests.factories import TEST_PASSWORD, AdminFactory, StaffFactory, UserFactory
from tests.oidc import node_provider, sign_in_at_provider
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
CALLBACK = "http://portal.test/sign-in/sso/callback"  # from BASE_URL
REFUSED = "Single sign-on did not find a portal account you can use with it."


@pytest.fixture(scope="module")
def oidc_provider():
    """node-oidc-provider, a standards-compliant OpenID provider, with the portal registered
    as a client (so it checks the secret and the redirect URI). It sends ``email`` and
    ``email_verified`` from its userinfo endpoint only. The login typed at its form is the
    subject, whose email is that login and verified, unless a test says otherwise."""
    with node_provider(CALLBACK) as provider:
        yield provider


def sso_config(app_config, issuer: str, client_id: str, client_secret: str, **settings) -> dict:
    # Given to create_app: it decides OIDC_ENABLED and registers the client from these.
    return {
        **app_config,
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": client_secret,
        **settings,
    }


def choose_account(client, login: str, start: str = "/sign-in/sso") -> str:
    """Start single sign-on at the portal, then do at the provider what the person does
    there (sign in as ``login``). Returns the on-site path of the callback the provider
    sends the browser back to."""
    to_provider = client.get(start)
    assert to_provider.status_code == 302
    callback = sign_in_at_provider(to_provider.headers["Location"], login, CALLBACK)
    assert callback.startswith(CALLBACK + "?")
    return path_of(callback)


def refusal(client) -> str:
    """The message the sign-in page shows after a refused single sign-on."""
    page = client.get("/sign-in")
    match = re.search(r'<p class="flash flash-error">([^<]*)</p>', page.text)
    assert match, page.text
    return html.unescape(match.group(1))


class SingleSignOn:
    settings: dict = {}

    @pytest.fixture
    def app_config(self, app_config, oidc_provider):
        return sso_config(app_config, oidc_provider.issuer, oidc_provider.client_id, oidc_provider.client_secret, **self.settings)

    @pytest.fixture(autouse=True)
    def provider_accounts(self, oidc_provider):
        oidc_provider.reset()
        return oidc_provider

    @staticmethod
    def sign_in(client, login: str, start: str = "/sign-in/sso"):
        """Portal → provider (the person signs in as ``login``) → back to the portal."""
        return client.get(choose_account(client, login, start))


class TestSingleSignOn(SingleSignOn):
    def test_the_sign_in_page_offers_it(self, client, db):
        page = client.get("/sign-in")
        assert "Sign in with company single sign-on" in page.text

    def test_the_portal_sends_people_to_the_provider(self, client, db, oidc_provider):
        response = client.get("/sign-in/sso")

        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{oidc_provider.issuer}/auth"
        query = parse_qs(location.query)
        assert query["client_id"] == [oidc_provider.client_id]
        assert query["redirect_uri"] == [CALLBACK]
        assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
        assert query["state"] and query["nonce"]

    def test_the_provider_sends_the_email_from_userinfo_only(self, oidc_provider):
        """The premise of the tests below: the ID token has no email, so the portal must
        ask the userinfo endpoint (OIDC Core 5.4 allows either)."""
        browser = requests.Session()
        authorize = f"{oidc_provider.issuer}/auth?" + urlencode(
            {"client_id": oidc_provider.client_id, "redirect_uri": CALLBACK, "response_type": "code",
             "scope": "openid email profile", "nonce": "n", "state": "s"}
        )
        code = parse_qs(urlsplit(sign_in_at_provider(authorize, "casey@example.com", CALLBACK)).query)["code"][0]
        tokens = browser.post(
            f"{oidc_provider.issuer}/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
            auth=(oidc_provider.client_id, oidc_provider.client_secret),
            timeout=10,
        ).json()
        id_token = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))
        userinfo = browser.get(
            f"{oidc_provider.issuer}/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
        ).json()

        assert id_token["sub"] == "casey@example.com"
        assert "email" not in id_token and "email_verified" not in id_token
        assert userinfo == {"sub": "casey@example.com", "email": "casey@example.com", "email_verified": True}

    def test_staff_sign_in(self, client, db, oidc_provider):
        staff = StaffFactory(email="casey@example.com")

        response = self.sign_in(client, "casey@example.com")

        assert response.status_code == 302
        assert response.headers["Location"] == "/home"
        assert signed_in_user_id(client) == str(staff.id)
        assert client.get("/home").status_code == 200
        identity = db.session.scalar(select(UserIdentity).where(UserIdentity.user_id == staff.id))
        assert (identity.issuer, identity.subject) == (oidc_provider.issuer, "casey@example.com")

    def test_admin_sign_in_returns_to_next(self, client, db):
        admin = AdminFactory(email="lead@example.com", password_hash=None)

        response = self.sign_in(client, "Lead@Example.com", start="/sign-in/sso?next=/admin/advocates")

        assert response.headers["Location"] == "/admin/advocates"
        assert signed_in_user_id(client) == str(admin.id)

    def test_a_changed_email_at_the_provider_signs_in_the_same_person(self, client, db, provider_accounts):
        staff = StaffFactory(email="casey@example.com")
        provider_accounts.set_account("employee-4711", email="casey@example.com", email_verified=True)
        self.sign_in(client, "employee-4711")
        client.post("/sign-out")

        provider_accounts.set_account("employee-4711", email="casey.jones@example.com", email_verified=True)
        response = self.sign_in(client, "employee-4711")

        assert response.headers["Location"] == "/home"
        assert signed_in_user_id(client) == str(staff.id)

    def test_another_subject_with_the_same_email_does_not_take_over(self, app, client, db, provider_accounts):
        staff = StaffFactory(email="casey@example.com")
        provider_accounts.set_account("employee-4711", email="casey@example.com", email_verified=True)
        self.sign_in(client, "employee-4711")

        # Someone else at the provider, given (or able to set) the same verified address.
        provider_accounts.set_account("contractor-66", email="casey@example.com", email_verified=True)
        intruder = app.test_client()
        response = self.sign_in(intruder, "contractor-66")

        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(intruder) is None
        assert refusal(intruder).startswith(REFUSED)
        assert db.session.scalars(select(UserIdentity.subject).where(UserIdentity.user_id == staff.id)).all() == [
            "employee-4711"
        ]

    def test_an_advocate_may_not_use_the_team_sign_on(self, client, db):
        advocate = UserFactory(email="alex@customer.example")

        response = self.sign_in(client, advocate.email)

        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert refusal(client).startswith(REFUSED)
        assert fresh(advocate).last_sign_in_at is None
        assert db.session.scalar(select(UserIdentity.id)) is None

    def test_every_refusal_about_an_account_says_the_same(self, app, db, provider_accounts):
        """No account, a deactivated one, an advocate's, one linked to another subject: the
        same words, so nobody learns through the provider which addresses have accounts."""
        StaffFactory(email="gone@example.com", active=False)
        UserFactory(email="alex@customer.example")
        taken = StaffFactory(email="taken@example.com")
        db.session.add(UserIdentity(user_id=taken.id, issuer=provider_accounts.issuer, subject="someone-else"))
        db.session.flush()

        messages = set()
        for login in ("stranger@example.com", "gone@example.com", "alex@customer.example", "taken@example.com"):
            client = app.test_client()
            response = self.sign_in(client, login)
            assert response.headers["Location"] == "/sign-in"
            assert signed_in_user_id(client) is None
            messages.add(refusal(client))

        assert len(messages) == 1
        assert messages.pop().startswith(REFUSED)

    def test_a_deactivated_user_is_refused(self, client, db):
        staff = StaffFactory(email="gone@example.com", active=False)

        response = self.sign_in(client, staff.email)

        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert refusal(client).startswith(REFUSED)
        assert fresh(staff).last_sign_in_at is None

    def test_a_deactivated_user_with_a_linked_identity_is_refused(self, client, db):
        staff = StaffFactory(email="casey@example.com")
        self.sign_in(client, staff.email)
        client.post("/sign-out")
        staff.active = False
        db.session.flush()

        response = self.sign_in(client, staff.email)

        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None

    def test_an_unverified_email_is_refused(self, client, db, provider_accounts):
        StaffFactory(email=UNVERIFIED)
        provider_accounts.set_account(UNVERIFIED, email=UNVERIFIED, email_verified=False)

        response = self.sign_in(client, UNVERIFIED)

        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert "did not confirm that your email address is verified" in refusal(client)

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


class TestAProviderThatOmitsEmailVerified(SingleSignOn):
    """A provider that sends ``email`` but no ``email_verified``: a missing claim means
    unverified, or anyone who can set an address there could claim ``admin@…`` here."""

    @pytest.fixture(autouse=True)
    def provider_accounts(self, oidc_provider):
        oidc_provider.reset(default_email_verified=None)
        return oidc_provider

    def test_its_email_is_not_trusted(self, client, db):
        admin = AdminFactory(email="lead@example.com")

        response = self.sign_in(client, "lead@example.com")

        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert "did not confirm that your email address is verified" in refusal(client)
        assert fresh(admin).last_sign_in_at is None


class TestAProviderTrustedForEmail(SingleSignOn):
    """PORTAL_OIDC_TRUST_EMAIL: for a provider that verifies every address it hands out."""

    settings = {"OIDC_TRUST_EMAIL": True}

    @pytest.fixture(autouse=True)
    def provider_accounts(self, oidc_provider):
        oidc_provider.reset(default_email_verified=None)
        return oidc_provider

    def test_a_missing_email_verified_is_accepted(self, client, db):
        staff = StaffFactory(email="casey@example.com")
        response = self.sign_in(client, "casey@example.com")
        assert response.headers["Location"] == "/home"
        assert signed_in_user_id(client) == str(staff.id)

    def test_an_explicitly_unverified_email_is_still_refused(self, client, db, provider_accounts):
        StaffFactory(email=UNVERIFIED)
        provider_accounts.set_account(UNVERIFIED, email=UNVERIFIED, email_verified=False)
        response = self.sign_in(client, UNVERIFIED)
        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None


class TestSingleSignOnForAdvocatesWhenConfigured(SingleSignOn):
    settings = {"OIDC_ROLES": "advocate,staff,admin"}

    def test_an_advocate_signs_in(self, client, db):
        advocate = UserFactory(email="alex@customer.example")
        response = self.sign_in(client, advocate.email)
        assert response.headers["Location"] == "/home"
        assert signed_in_user_id(client) == str(advocate.id)


class TestSingleSignOnForAdminsOnly(SingleSignOn):
    settings = {"OIDC_ROLES": "admin"}

    def test_staff_are_refused(self, client, db):
        StaffFactory(email="casey@example.com")
        response = self.sign_in(client, "casey@example.com")
        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert refusal(client).startswith(REFUSED)


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
        with run_server_in_thread(port=provider_port):  # oidc-provider-mock: starts and stops in-process
            authorize_url = client.get("/sign-in/sso").headers["Location"]
            chosen = requests.post(authorize_url, data={"sub": "casey@example.com"}, allow_redirects=False, timeout=10)
            callback = path_of(chosen.headers["Location"])
        # The provider went away between the person choosing an account and the portal
        # redeeming the code.
        response = client.get(callback)

        assert response.status_code == 302
        assert response.headers["Location"] == "/sign-in"
        assert signed_in_user_id(client) is None
        assert "Single sign-on is not available right now" in client.get("/sign-in").text
