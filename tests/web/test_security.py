"""Headers, cookies, CSRF and rate limits on the sign-in forms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from portal import create_app
from portal.config import ConfigError
from portal.database import db as _db
from portal.models import OutboxStatus
from portal.services import auth
from tests.factories import TEST_PASSWORD, AdminFactory, AdvocateFactory, FailedEmailFactory, StaffFactory, UserFactory
from tests.web.pages import (
    emails_to,
    find_form,
    fresh,
    htmx_csrf_token,
    parse,
    path_of,
    signed_in_user_id,
    submit,
)

# --- headers --------------------------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{response.request.path} has no Content-Security-Policy"
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


# (path, role): pages, a redirect, error pages, JSON and a static file.
RESPONSES = [
    ("/", None),
    ("/sign-in", None),
    ("/healthz", None),
    ("/static/css/portal.css", None),
    ("/no-such-page", None),
    ("/home", None),
    ("/home", UserFactory),
    ("/admin", UserFactory),
    ("/admin", AdminFactory),
    ("/admin/mailbox", AdminFactory),
    ("/api/v1/nothing", None),
]


@pytest.mark.parametrize(
    ("path", "factory"), RESPONSES, ids=[f"{p}:{f.__name__ if f else 'anonymous'}" for p, f in RESPONSES]
)
def test_every_response_carries_the_security_headers(client, db, login_as, path, factory):
    if factory:
        login_as(factory())

    response = client.get(path)
    response.close()  # static files are streamed

    csp = csp_directives(response)
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "'unsafe-inline'" not in csp.get("style-src", csp.get("default-src"))
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in (
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    )


def test_signed_in_pages_are_not_cached(client, db, login_as):
    login_as(UserFactory())
    assert client.get("/home").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "factory"),
    [
        ("/", None),
        ("/sign-in", None),
        ("/home", UserFactory),
        ("/admin", AdminFactory),
        ("/admin/mailbox", AdminFactory),
        ("/nothing", None),
    ],
)
def test_pages_need_nothing_the_policy_forbids(client, db, login_as, path, factory):
    """The CSP allows no inline script or style: pages must not rely on any."""
    if factory:
        login_as(factory())
    page = parse(client.get(path).text)
    for element in page.elements:
        if element.tag == "script":
            assert element.attrs.get("src"), f"inline <script> on {path}"
        assert element.tag != "style", f"<style> block on {path}"
        assert "style" not in element.attrs, f"style attribute on <{element.tag}> on {path}"
        handlers = [name for name in element.attrs if name.startswith("on")]
        assert not handlers, f"event handler on <{element.tag}> on {path}"


# --- cookies --------------------------------------------------------------------------------


def session_cookie(response) -> dict[str, str]:
    """The attributes of the session cookie the response sets, names lower-cased."""
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    attributes = {}
    for part in cookie.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def test_the_session_cookie_is_httponly_and_samesite_lax(client, db):
    staff = StaffFactory()
    response = client.post("/sign-in/password", data={"email": staff.email, "password": TEST_PASSWORD})

    cookie = session_cookie(response)
    assert "httponly" in cookie
    assert cookie["samesite"] == "Lax"
    assert "secure" not in cookie  # development runs on plain http://127.0.0.1


@pytest.fixture
def production_app(app_config):
    secret = "a-long-random-production-secret-" * 2
    app = create_app({**app_config, "ENV": "production", "SECRET_KEY": secret, "SMTP_HOST": "mail.example.com"})
    yield app
    with app.app_context():
        for engine in _db.engines.values():
            engine.dispose()


def test_in_production_the_session_cookie_is_also_secure(production_app):
    response = production_app.test_client().get("/sign-in")

    cookie = session_cookie(response)
    assert "httponly" in cookie
    assert cookie["samesite"] == "Lax"
    assert "secure" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_production_refuses_to_start_without_a_secret(app_config):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({**app_config, "ENV": "production", "SECRET_KEY": None})


# --- CSRF -----------------------------------------------------------------------------------


@dataclass
class Post:
    """A state change: the page whose form makes it, what is posted where, and how to tell
    that it happened."""

    page: str
    action: str
    data: dict
    happened: Callable[[], bool]
    form_action: str | None  # the form's action attribute; None: it posts to its own page


def sign_in_link(client, login_as) -> Post:
    advocate = UserFactory()
    return Post(
        page="/sign-in",
        action="/sign-in/link",
        data={"email": advocate.email},
        happened=lambda: bool(emails_to(advocate.email)),
        form_action="/sign-in/link",
    )


def password(client, login_as) -> Post:
    staff = StaffFactory()
    return Post(
        page="/sign-in",
        action="/sign-in/password",
        data={"email": staff.email, "password": TEST_PASSWORD},
        happened=lambda: signed_in_user_id(client) == str(staff.id),
        form_action="/sign-in/password",
    )


def link_redeem(client, login_as) -> Post:
    advocate = UserFactory()
    link = path_of(auth.sign_in_url(advocate))
    return Post(
        page=link,
        action=link,
        data={},
        happened=lambda: signed_in_user_id(client) == str(advocate.id),
        form_action=None,
    )


def sign_out(client, login_as) -> Post:
    login_as(UserFactory())
    return Post(
        page="/home",
        action="/sign-out",
        data={},
        happened=lambda: signed_in_user_id(client) is None,
        form_action="/sign-out",
    )


def mailbox_retry(client, login_as) -> Post:
    login_as(AdminFactory())
    message = FailedEmailFactory()
    action = f"/admin/mailbox/{message.id}/retry"
    return Post(
        page=f"/admin/mailbox/{message.id}",
        action=action,
        data={},
        happened=lambda: fresh(message).status is not OutboxStatus.FAILED,
        form_action=action,
    )


def sign_out_everywhere(client, login_as) -> Post:
    user = login_as(UserFactory())
    return Post(
        page="/sign-out/everywhere",
        action="/sign-out/everywhere",
        data={},
        happened=lambda: fresh(user).session_generation == 1,
        form_action="/sign-out/everywhere",
    )


def admin_signs_out_an_advocate(client, login_as) -> Post:
    login_as(AdminFactory())
    advocate = AdvocateFactory()
    action = f"/admin/advocates/{advocate.id}/sign-out-everywhere"
    return Post(
        page=f"/admin/advocates/{advocate.id}",
        action=action,
        data={},
        happened=lambda: fresh(advocate.user).session_generation == 1,
        form_action=action,
    )


STATE_CHANGES = [sign_in_link, password, link_redeem, sign_out, mailbox_retry, sign_out_everywhere, admin_signs_out_an_advocate]


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True, ids=["csrf"])
@pytest.mark.parametrize("make", STATE_CHANGES, ids=[f.__name__ for f in STATE_CHANGES])
class TestCsrf:
    def test_without_a_token_nothing_happens(self, client, db, login_as, make):
        post = make(client, login_as)
        client.get(post.page)  # the session has a token; the request just does not carry it

        response = client.post(post.action, data=post.data)

        assert response.status_code == 400
        assert "Your form expired or was sent from another page" in response.text
        assert not post.happened()

    def test_a_token_from_another_session_is_refused(self, app, client, db, login_as, make):
        """An attacker's own, validly signed token does not fit the victim's session."""
        post = make(client, login_as)
        client.get(post.page)
        foreign_token = htmx_csrf_token(app.test_client().get("/").text)

        response = client.post(post.action, data={**post.data, "csrf_token": foreign_token})

        assert response.status_code == 400
        assert not post.happened()

    def test_the_form_on_the_page_succeeds(self, client, db, login_as, make):
        post = make(client, login_as)
        page = client.get(post.page)
        assert page.status_code == 200
        assert find_form(page.text, post.form_action).fields.get("csrf_token")

        response = submit(client, page.text, post.form_action, to=post.action, **post.data)

        assert response.status_code == 302
        assert post.happened()

    def test_the_htmx_header_succeeds(self, client, db, login_as, make):
        post = make(client, login_as)
        page = client.get(post.page)

        response = client.post(
            post.action,
            data=post.data,
            headers={"X-CSRFToken": htmx_csrf_token(page.text), "HX-Request": "true"},
        )

        assert response.status_code == 302
        assert post.happened()


# --- rate limits ----------------------------------------------------------------------------

LIMIT = 5  # SIGN_IN_RATE_LIMIT, per address: "5 per minute;20 per hour"
CLIENT_LIMIT = 60  # SIGN_IN_CLIENT_RATE_LIMIT, per client: "60 per minute;600 per hour"
FAILURES = 5  # PASSWORD_FAILURE_LIMIT, per (address, client): "5 per 5 minutes;10 per hour;20 per day"
JOIN_LIMIT = 3  # JOIN_ADDRESS_RATE_LIMIT, per address: "3 per hour;10 per day"


def post_from(app, number: int, path: str, data: dict):
    """A request from another machine: a fresh browser at 198.51.100.<number>."""
    client = app.test_client()
    response = client.post(path, data=data, environ_base={"REMOTE_ADDR": f"198.51.100.{number}"})
    return client, response


def assert_too_many(response):
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert "<main" in response.text  # the portal's page, not the extension's plain text
    assert int(response.headers["Retry-After"]) > 0


def join_data(email: str) -> dict:
    from tests.web.intake import join_data as filled_in

    return filled_in(email=email)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}], indirect=True, ids=["limited"])
class TestRateLimits:
    def test_an_office_behind_one_address_signs_in(self, client, db):
        """Forty colleagues ask for links from the office's one address: all are sent."""
        addresses = [f"colleague{n}@customer.example" for n in range(40)]
        for address in addresses:
            assert client.post("/sign-in/link", data={"email": address}).status_code == 302

    def test_the_link_form_is_limited_per_client(self, client, db):
        for n in range(CLIENT_LIMIT):
            assert client.post("/sign-in/link", data={"email": f"person{n}@customer.example"}).status_code == 302

        assert_too_many(client.post("/sign-in/link", data={"email": "one-more@customer.example"}))
        assert emails_to("one-more@customer.example") == []

    def test_the_link_form_is_limited_per_address(self, app, db):
        advocate = UserFactory()
        for number in range(LIMIT):
            _, response = post_from(app, number, "/sign-in/link", {"email": advocate.email})
            assert response.status_code == 302

        # Same inbox, another client, and the address written differently.
        _, response = post_from(app, 99, "/sign-in/link", {"email": advocate.email.upper()})
        assert_too_many(response)
        assert len(emails_to(advocate.email)) == LIMIT

    def test_wrong_passwords_back_off_per_address_and_client(self, app, db):
        staff = StaffFactory()
        client = app.test_client()
        for n in range(FAILURES):
            response = client.post("/sign-in/password", data={"email": staff.email, "password": f"guess {n}"})
            assert response.status_code == 422

        # This client has to wait, even with the right password, for this address...
        assert_too_many(client.post("/sign-in/password", data={"email": staff.email, "password": TEST_PASSWORD}))
        assert signed_in_user_id(client) is None
        # ... but not for another address: the client is not locked out of the portal.
        other = StaffFactory()
        assert client.post("/sign-in/password", data={"email": other.email, "password": TEST_PASSWORD}).status_code == 302

    def test_strangers_cannot_lock_out_the_right_password(self, app, db):
        """Wrong passwords for an admin's address from five other machines, more than the
        old per-address limit: the admin's own machine still signs in."""
        admin = AdminFactory()
        for number in range(5):
            for attempt in range(FAILURES + 2):
                guess = {"email": admin.email, "password": f"guess {number}-{attempt}"}
                _, response = post_from(app, number, "/sign-in/password", guess)
                assert response.status_code in (422, 429)

        client, response = post_from(app, 99, "/sign-in/password", {"email": admin.email, "password": TEST_PASSWORD})
        assert response.status_code == 302
        assert signed_in_user_id(client) == str(admin.id)

    def test_a_right_password_does_not_count_as_a_failure(self, app, db):
        staff = StaffFactory()
        client = app.test_client()
        for _ in range(FAILURES + 2):
            client.post("/sign-out")
            assert client.post("/sign-in/password", data={"email": staff.email, "password": TEST_PASSWORD}).status_code == 302

    def test_join_is_limited_per_address(self, app, db, taxonomies):
        address = "flooded@customer.example"
        for number in range(JOIN_LIMIT):
            _, response = post_from(app, number, "/join", join_data(address))
            assert response.status_code == 302

        _, response = post_from(app, 99, "/join", join_data(address.upper()))
        assert_too_many(response)
        assert len(emails_to(address)) == JOIN_LIMIT
        _, response = post_from(app, 99, "/join", join_data("someone-else@customer.example"))
        assert response.status_code == 302

    def test_confirming_links_is_limited_per_client(self, client, db):
        for n in range(CLIENT_LIMIT):
            assert client.post(f"/sign-in/link/guess-{n}", data={}).status_code == 400
        assert_too_many(client.post("/sign-in/link/guess-last", data={}))

    @pytest.mark.parametrize("round_", [1, 2])
    def test_every_test_starts_with_a_full_allowance(self, client, db, round_):
        """Counts live in the limiter's storage (memory or Redis), which outlives an app;
        conftest resets it, so a test never inherits an earlier test's attempts."""
        for n in range(LIMIT):
            address = f"round{round_}-{n}@customer.example"
            assert client.post("/sign-in/link", data={"email": address}).status_code == 302

    def test_pages_are_not_limited(self, client, db):
        for _ in range(LIMIT * 3):
            assert client.get("/sign-in").status_code == 200
            assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "app_config",
    [{"RATELIMIT_ENABLED": True, "TRUSTED_PROXIES": 1, "SIGN_IN_CLIENT_RATE_LIMIT": "2 per minute"}],
    indirect=True,
    ids=["behind-a-proxy"],
)
def test_behind_a_proxy_each_forwarded_client_is_counted_alone(client, db):
    def ask_from(client_address: str, n: int):
        return client.post("/sign-in/link", data={"email": f"p{client_address}-{n}@customer.example"},
                           headers={"X-Forwarded-For": client_address})

    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        assert [ask_from(address, n).status_code for n in range(2)] == [302, 302]
    assert_too_many(ask_from("203.0.113.1", 3))
