"""Errors answer with the portal's own page (or JSON under /api/), never a bare server page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import User
from tests.factories import UserFactory

TITLES = {
    400: "We could not process that request",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    413: "That upload is too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
}


def assert_error_page(response, code: int):
    title = TITLES[code]
    assert response.status_code == code
    assert response.mimetype == "text/html"
    page = response.text
    assert f"<title>{title} · Advocate Portal</title>" in page
    assert f"<h1>{title}</h1>" in page
    assert f"Error {code}." in page
    assert '<nav aria-label="Main">' in page and '<main id="main"' in page  # the layout
    assert '<a href="/">Go to the start page</a>' in page
    assert "Traceback" not in page and "werkzeug" not in page.lower()


def forbidden(app, client, login_as):
    login_as(UserFactory())
    return client.get("/admin")


def not_found(app, client, login_as):
    return client.get("/no-such-page")


def method_not_allowed(app, client, login_as):
    return client.get("/sign-out")


def too_large(app, client, login_as):
    body = b"email=" + b"x" * app.config["MAX_CONTENT_LENGTH"]
    return client.post("/sign-in/link", data=body, content_type="application/x-www-form-urlencoded")


def too_large_upload(app, client, login_as):
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    return client.post("/sign-in/link", data=body, content_type="multipart/form-data; boundary=x")


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (403, forbidden),
        (404, not_found),
        (405, method_not_allowed),
        (413, too_large),
        (413, too_large_upload),
    ],
    ids=lambda value: value.__name__ if callable(value) else str(value),
)
def test_errors_render_the_portal_page(app, client, db, login_as, code, cause):
    assert_error_page(cause(app, client, login_as), code)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True, ids=["csrf"])
def test_400_renders_the_portal_page(client, db):
    response = client.post("/sign-in/link", data={"email": "someone@customer.example"})
    assert_error_page(response, 400)
    assert "Your form expired or was sent from another page" in response.text


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}], indirect=True, ids=["limited"])
def test_429_renders_the_portal_page(client, db):
    for _ in range(5):
        assert client.post("/sign-in/link", data={"email": "a@customer.example"}).status_code == 302
    assert_error_page(client.post("/sign-in/link", data={"email": "a@customer.example"}), 429)


def add_failing_route(app, rule: str):
    """A view that writes, then fails: registered before the test's first request."""

    def fail():
        UserFactory(email="half-written@customer.example")
        raise RuntimeError("the code under test broke")

    app.add_url_rule(rule, "fail", fail)


@pytest.mark.fresh_app
def test_500_renders_the_portal_page_and_keeps_nothing_half_written(app, client, db, caplog):
    add_failing_route(app, "/fail")

    response = client.get("/fail")

    assert_error_page(response, 500)
    assert "the code under test broke" not in response.text
    assert "unhandled error" in caplog.text  # logged for the operators
    assert db.session.scalar(select(User).where(User.email == "half-written@customer.example")) is None


@pytest.mark.fresh_app
def test_an_http_500_renders_the_portal_page(app, client, db):
    from flask import abort

    app.add_url_rule("/abort", "abort", lambda: abort(500))
    assert_error_page(client.get("/abort"), 500)


# --- /api/ ----------------------------------------------------------------------------------


def assert_json_error(response, code: int):
    assert response.status_code == code
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == code
    assert error["title"] == TITLES[code]
    assert error["detail"]
    return error


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_api_errors_are_json(client, db, method):
    assert_json_error(client.open("/api/v1/nothing", method=method), 404)


@pytest.mark.fresh_app
def test_an_api_500_is_json(app, client, db):
    add_failing_route(app, "/api/v1/fail")
    error = assert_json_error(client.get("/api/v1/fail"), 500)
    assert "the code under test broke" not in error["detail"]


def test_only_api_paths_answer_json(client, db):
    """Near misses are pages: the JSON rule is the /api/ prefix, not a substring."""
    assert_error_page(client.get("/apiary"), 404)
    assert_error_page(client.get("/x/api/v1/nothing"), 404)
