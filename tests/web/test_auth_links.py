"""Advocates sign in with single-use, expiring email links."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from itsdangerous import TimestampSigner

from portal.services import auth
from tests.conftest import ON_POSTGRES
from tests.factories import TEST_PASSWORD, AdminFactory, StaffFactory, UserFactory
from tests.web.pages import (
    emails_to,
    field_error,
    fresh,
    link_for,
    request_link,
    sign_in_link_in,
    signed_in_user_id,
    submit,
    without_tokens,
)


def open_link(client, link: str):
    """What a person does with the email: open the link, then select the button."""
    page = client.get(link)
    assert page.status_code == 200, page.text
    return submit(client, page.text, to=link)


def assert_signed_in_as(client, user):
    assert signed_in_user_id(client) == str(user.id)
    home = client.get("/home")
    assert home.status_code == 200
    assert user.email in home.text


# --- asking for a link ----------------------------------------------------------------------


def test_the_answer_is_the_same_whoever_asks(app, db):
    """Known advocate, unknown address, team member, deactivated advocate: the requester
    learns nothing from status, redirect or page."""
    advocate = UserFactory(email="known@customer.example")
    staff = StaffFactory(email="team@example.com")
    retired = UserFactory(email="retired@customer.example", active=False)
    addresses = [advocate.email, "nobody@customer.example", staff.email, retired.email]

    answers = []
    for address in addresses:
        client = app.test_client()
        response = request_link(client, address)
        page = client.get(response.headers["Location"])
        answers.append(
            (
                response.status_code,
                response.headers["Location"],
                page.status_code,
                without_tokens(page.text).replace(address, "ADDRESS"),
            )
        )
    assert answers[0][:2] == (302, "/sign-in/link-sent")
    assert "Check your email" in answers[0][3]
    assert all(answer == answers[0] for answer in answers[1:])


def test_a_known_advocate_gets_a_link_by_real_email(client, smtp):
    advocate = UserFactory(email="rosa@customer.example", name="Rosa Díaz")

    assert request_link(client, "Rosa@Customer.EXAMPLE").status_code == 302

    [message] = smtp.to(advocate.email)
    assert "sign-in link" in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Rosa Díaz" in body
    assert body.count("http://portal.test/sign-in/link/") == 1  # built from BASE_URL, not Host
    assert "expires in 15 minutes" in body

    response = open_link(client, sign_in_link_in(body))

    assert response.headers["Location"] == "/home"
    assert_signed_in_as(client, advocate)


def test_a_forged_host_header_cannot_redirect_the_link(client, db):
    """Links are built from BASE_URL: a request sent with another Host gets no link to it."""
    advocate = UserFactory()

    client.post("/sign-in/link", data={"email": advocate.email}, headers={"Host": "evil.example"})

    [message] = emails_to(advocate.email)
    assert "evil.example" not in message.payload["text"]
    assert "http://portal.test/sign-in/link/" in message.payload["text"]


def test_an_unknown_address_is_told_how_to_get_in_and_the_team_gets_nothing(client, smtp):
    staff = StaffFactory()
    request_link(client, "stranger@elsewhere.example")
    request_link(client, staff.email)

    [message] = smtp.to("stranger@elsewhere.example")
    assert "not registered" in message.get_body(preferencelist=("plain",)).get_content()
    assert "/sign-in/link/" not in message.get_body(preferencelist=("plain",)).get_content()
    assert smtp.to(staff.email) == []


def test_a_deactivated_advocate_gets_no_link(client, db):
    retired = UserFactory(active=False)
    assert request_link(client, retired.email).status_code == 302
    assert emails_to(retired.email) == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter the work email address you joined the program with."),
        ("not-an-address", "Enter an email address like name@company.com."),
    ],
)
def test_bad_input_is_answered_beside_the_field(client, db, email, message):
    response = request_link(client, email)
    assert response.status_code == 422
    assert field_error(response.text, "/sign-in/link", "email") == message
    assert emails_to(email) == []
    with client.session_transaction() as session:
        assert "link_sent_to" not in session


# --- opening and using a link ---------------------------------------------------------------


def test_opening_the_link_asks_first_and_spends_nothing(client, db):
    """Mail scanners prefetch links: a GET must neither sign in nor use the link up."""
    advocate = UserFactory(name="Ana Lima")
    link = link_for(client, advocate.email)
    generation = advocate.sign_in_generation

    page = client.get(link)
    assert page.status_code == 200
    assert "Sign in as Ana Lima?" in page.text
    assert advocate.email in page.text
    assert client.get(link).status_code == 200  # still good

    assert signed_in_user_id(client) is None
    assert client.get("/home").status_code == 302
    assert fresh(advocate).sign_in_generation == generation
    assert fresh(advocate).last_sign_in_at is None


def test_confirming_signs_in_and_lands_on_home(client, db):
    advocate = UserFactory()
    link = link_for(client, advocate.email)

    response = open_link(client, link)

    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    assert_signed_in_as(client, advocate)
    assert fresh(advocate).last_sign_in_at is not None


def test_a_link_works_only_once(app, client, db):
    advocate = UserFactory()
    link = link_for(client, advocate.email)
    assert open_link(client, link).status_code == 302

    other_browser = app.test_client()
    again = other_browser.get(link)
    assert again.status_code == 400
    assert "already been used" in again.text
    replay = other_browser.post(link, data={})
    assert replay.status_code == 400
    assert "already been used" in replay.text
    assert signed_in_user_id(other_browser) is None
    assert other_browser.get("/home").status_code == 302


def test_a_later_sign_in_spends_every_earlier_link(client, db, monkeypatch):
    advocate = UserFactory()
    first = issue_link_at(client, monkeypatch, advocate.email, int(time.time()) - 60)
    second = link_for(client, advocate.email)
    assert first != second

    assert open_link(client, second).status_code == 302

    response = client.get(first)
    assert response.status_code == 400
    assert "already been used" in response.text


def test_a_password_sign_in_spends_a_support_link(client, db):
    """Support hands out links to anyone (``flask login-link``); any sign-in spends them."""
    admin = AdminFactory()
    link = sign_in_link_in(auth.sign_in_url(admin))
    assert client.get(link).status_code == 200

    signed_in = client.post("/sign-in/password", data={"email": admin.email, "password": TEST_PASSWORD})
    assert signed_in.status_code == 302

    response = client.get(link)
    assert response.status_code == 400
    assert "already been used" in response.text


def issue_link_at(client, monkeypatch, email: str, issued_at: int) -> str:
    """Ask for a link as if the clock read ``issued_at`` (itsdangerous stamps tokens with
    ``TimestampSigner.get_timestamp``), then let time run normally again."""
    with monkeypatch.context() as frozen:
        frozen.setattr(TimestampSigner, "get_timestamp", lambda self: issued_at)
        return link_for(client, email)


def test_an_expired_link_fails(app, client, db, monkeypatch):
    advocate = UserFactory()
    max_age = app.config["SIGN_IN_LINK_MAX_AGE"]
    link = issue_link_at(client, monkeypatch, advocate.email, int(time.time()) - max_age - 5)

    for response in (client.get(link), client.post(link, data={})):
        assert response.status_code == 400
        assert "expired" in response.text
    assert signed_in_user_id(client) is None
    assert fresh(advocate).sign_in_generation == 0


def test_a_link_shortly_before_expiry_still_works(app, client, db, monkeypatch):
    advocate = UserFactory()
    max_age = app.config["SIGN_IN_LINK_MAX_AGE"]
    link = issue_link_at(client, monkeypatch, advocate.email, int(time.time()) - max_age + 30)

    assert open_link(client, link).status_code == 302
    assert_signed_in_as(client, advocate)


def tampered(link: str, part: int) -> str:
    """Change one character in the payload (0), timestamp (1) or signature (2) of the token."""
    prefix, token = link.rsplit("/", 1)
    token, _, query = token.partition("?")
    pieces = token.split(".")
    piece = pieces[part]
    middle = len(piece) // 2
    pieces[part] = piece[:middle] + ("A" if piece[middle] != "A" else "B") + piece[middle + 1 :]
    return f"{prefix}/{'.'.join(pieces)}" + (f"?{query}" if query else "")


@pytest.mark.parametrize("part", [0, 1, 2], ids=["payload", "timestamp", "signature"])
def test_a_tampered_link_fails(client, db, part):
    advocate = UserFactory()
    link = tampered(link_for(client, advocate.email), part)

    for response in (client.get(link), client.post(link, data={})):
        assert response.status_code == 400
        assert "not valid" in response.text
    assert signed_in_user_id(client) is None


def test_a_link_signed_with_another_key_fails(app, client, db):
    advocate = UserFactory()
    real_key = app.secret_key
    app.secret_key = "some-other-portal-secret-key-entirely"
    try:
        link = sign_in_link_in(auth.sign_in_url(advocate))
    finally:
        app.secret_key = real_key

    response = client.get(link)
    assert response.status_code == 400
    assert "not valid" in response.text


def test_a_deactivated_advocate_cannot_use_a_link(client, db):
    advocate = UserFactory()
    link = link_for(client, advocate.email)
    page = client.get(link)
    assert page.status_code == 200

    advocate.active = False
    db.session.flush()

    assert client.get(link).status_code == 400
    response = submit(client, page.text, to=link)
    assert response.status_code == 400
    assert "not valid" in response.text
    assert signed_in_user_id(client) is None


# --- where a link leads ---------------------------------------------------------------------


def test_next_on_this_site_is_honoured(client, db):
    advocate = UserFactory()
    link = link_for(client, advocate.email, next_url="/home?tab=asks")
    assert "next=" in link

    response = open_link(client, link)

    assert response.status_code == 302
    assert response.headers["Location"] == "/home?tab=asks"


OFF_SITE = [
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "///evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_off_site_is_refused_when_asking_for_a_link(client, db, target):
    advocate = UserFactory()
    link = link_for(client, advocate.email, next_url=target)

    response = open_link(client, link)

    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_off_site_is_refused_when_edited_into_the_link(client, db, target):
    """Someone who edits ``next`` in the link, or the form, still lands on /home."""
    advocate = UserFactory()
    link = link_for(client, advocate.email)

    page = client.get(link, query_string={"next": target})
    assert page.status_code == 200
    assert "evil" not in page.text and "javascript" not in page.text

    response = client.post(link, data={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


# --- two at once ----------------------------------------------------------------------------


def test_the_same_link_opened_eight_times_at_once_signs_in_once(app, committed_db):
    if not ON_POSTGRES:
        pytest.skip("row-level races need PostgreSQL: SQLite serialises every writer")
    advocate = UserFactory()
    committed_db.session.commit()
    advocate_id = advocate.id
    link = link_for(app.test_client(), advocate.email)
    committed_db.session.remove()  # nothing held open while the threads race

    clients = [app.test_client() for _ in range(8)]
    start = threading.Barrier(len(clients))

    def confirm(client):
        start.wait()
        response = client.post(link, data={})
        return response.status_code, response.headers.get("Location"), signed_in_user_id(client)

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        results = list(pool.map(confirm, clients))

    signed_in = [r for r in results if r[0] == 302]
    assert signed_in == [(302, "/home", str(advocate_id))]
    assert sorted(r[0] for r in results) == [302] + [400] * 7
    assert all(r[2] is None for r in results if r[0] != 302)
    assert fresh(advocate).sign_in_generation == 1
