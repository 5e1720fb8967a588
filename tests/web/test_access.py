"""Who may open which page: every existing page for every role, and signing out."""

from __future__ import annotations

import pytest

from tests.factories import TEST_PASSWORD, AdminFactory, FailedEmailFactory, StaffFactory, UserFactory
from tests.web.pages import last_link_sent_to, redirect_target, signed_in_user_id, submit

ROLES = {
    "anonymous": None,
    "advocate": UserFactory,
    "staff": StaffFactory,
    "admin": AdminFactory,
}

OK, SIGN_IN, FORBIDDEN = 200, "sign-in", 403
EVERYONE = {"anonymous": OK, "advocate": OK, "staff": OK, "admin": OK}
SIGNED_IN = {"anonymous": SIGN_IN, "advocate": OK, "staff": OK, "admin": OK}
ADMINS = {"anonymous": SIGN_IN, "advocate": FORBIDDEN, "staff": FORBIDDEN, "admin": OK}

# Every page the portal has today ({message} is a real message's id).
PAGES = {
    "/": EVERYONE,
    "/healthz": EVERYONE,
    "/sign-in/link-sent": EVERYONE,
    "/home": SIGNED_IN,
    "/admin": ADMINS,
    "/admin/mailbox": ADMINS,
    "/admin/mailbox/{message}": ADMINS,
    "/admin/publishing": ADMINS,
    "/admin/publishing/tokens": ADMINS,
}

MATRIX = [(path, role, expected) for path, by_role in PAGES.items() for role, expected in by_role.items()]


def as_role(login_as, role: str):
    factory = ROLES[role]
    return login_as(factory()) if factory else None


@pytest.mark.parametrize(("path", "role", "expected"), MATRIX, ids=[f"{r}:{p}" for p, r, _ in MATRIX])
def test_role_endpoint_matrix(client, db, login_as, path, role, expected):
    path = path.format(message=FailedEmailFactory().id)
    as_role(login_as, role)

    response = client.get(path)

    if expected == SIGN_IN:
        assert response.status_code == 302
        assert redirect_target(response) == ("/sign-in", {"next": [path]})
    else:
        assert response.status_code == expected
    if expected == FORBIDDEN:
        assert "You do not have access to this page" in response.text


@pytest.mark.parametrize(
    ("role", "landing"), [("advocate", "/home"), ("staff", "/home"), ("admin", "/admin")]
)
def test_the_sign_in_page_sends_the_signed_in_home(client, db, login_as, role, landing):
    as_role(login_as, role)
    response = client.get("/sign-in")
    assert response.status_code == 302
    assert response.headers["Location"] == landing


def test_the_sign_in_page_is_open_to_visitors(client, db):
    response = client.get("/sign-in")
    assert response.status_code == 200
    assert "Email me a sign-in link" in response.text


def test_a_visitor_is_sent_to_sign_in_and_back_by_password(client, db):
    admin = AdminFactory()

    bounced = client.get("/admin/mailbox?page=2")
    assert redirect_target(bounced) == ("/sign-in", {"next": ["/admin/mailbox?page=2"]})
    page = client.get(bounced.headers["Location"])
    assert "Please sign in to see that page." in page.text

    response = submit(client, page.text, "/sign-in/password", email=admin.email, password=TEST_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/mailbox?page=2"
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_visitor_is_sent_to_sign_in_and_back_by_email_link(client, db):
    advocate = UserFactory()

    bounced = client.get("/home?tab=asks")
    page = client.get(bounced.headers["Location"])
    asked = submit(client, page.text, "/sign-in/link", email=advocate.email)
    assert asked.status_code == 302

    link = last_link_sent_to(advocate.email)  # the page's hidden next rode along
    confirm = client.get(link)
    response = submit(client, confirm.text, to=link)

    assert response.headers["Location"] == "/home?tab=asks"
    assert signed_in_user_id(client) == str(advocate.id)


# --- signing out ----------------------------------------------------------------------------


def test_sign_out_is_post_only(client, db, login_as):
    user = login_as(UserFactory())

    response = client.get("/sign-out")

    assert response.status_code == 405
    assert "That action is not allowed here" in response.text
    assert signed_in_user_id(client) == str(user.id)


@pytest.mark.parametrize("role", ["advocate", "staff", "admin"])
def test_sign_out_ends_the_session(client, db, login_as, role):
    as_role(login_as, role)
    home = client.get("/home")
    assert home.status_code == 200

    response = submit(client, home.text, "/sign-out")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert client.get("/home").status_code == 302
    assert "You are signed out." in client.get("/").text


def test_signing_out_when_signed_out_is_harmless(client, db):
    response = client.post("/sign-out")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_form_posted_after_the_session_ended_returns_to_its_page_after_sign_in(client):
    """POST-only addresses are never a sign-in's `next` (that would end in a 405)."""
    response = client.post("/profile/consent", headers={"Referer": "http://localhost/profile?tab=consent"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/profile?tab%3Dconsent"
    response = client.post("/profile/consent", headers={"Referer": "https://evil.example/phish"})
    assert response.headers["Location"] == "/sign-in"
