"""Every route of the app, walked with ids and page numbers no database holds, as every role,
with GET and POST: nothing answers 5xx (a new route is covered the day it is added)."""

from __future__ import annotations

import pytest

from portal.services import publishing
from tests.factories import AdminFactory, AdvocateFactory, StaffFactory

HUGE = [2**63, 10**20]
HUGE_PAGE = "99999999999999999999"
ROLES = ["anonymous", "advocate", "staff", "admin"]


def urls_for(app, value: int) -> list[str]:
    """Each rule with every variable set to ``value`` (numbers) or a plain word (text)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        parts = []
        for is_variable, text in rule._trace:  # noqa: SLF001 (werkzeug's own parse of the rule)
            if not is_variable:
                parts.append(text)
                continue
            converter = rule._converters[text]  # noqa: SLF001
            number = type(converter).__name__ in ("IntegerConverter", "BoundedIntegerConverter")
            parts.append(str(value) if number else "word")
        path = "".join(parts)
        urls.append(path[path.index("|") + 1:])
    return sorted(set(urls))


# Ids and numbers people pass in query strings and forms, all at once and all too large.
ID_PARAMETERS = ["advocate_id", "request_id", "item_ids", "product", "industry", "region", "use_case", "activity",
                 "activity_type", "parent_id", "points", "target", "stock", "month_limit", "quarter_limit"]


def huge_args(value: int) -> dict:
    return {"page": HUGE_PAGE, "per_page": HUGE_PAGE, **{name: str(value) for name in ID_PARAMETERS}}


def sign_in(role, login_as):
    if role == "advocate":
        return login_as(AdvocateFactory().user)
    if role == "staff":
        return login_as(StaffFactory())
    if role == "admin":
        return login_as(AdminFactory())
    return None


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_5xx_for_huge_ids_and_pages(app, client, db, login_as, role):
    sign_in(role, login_as)
    _token, plain = publishing.create_token(AdminFactory(), "walker")
    headers = {"Authorization": f"Bearer {plain}"}
    walked = 0
    for value in HUGE:
        for url in urls_for(app, value):
            assert "<" not in url, url  # every variable was filled in
            for method in ("GET", "POST"):
                response = client.open(url, method=method, headers=headers, query_string=huge_args(value),
                                       data=huge_args(value) if method == "POST" else None)
                # A 500 rolls the test's data back too, so the walk stops at the first one.
                response.close()  # file responses (the favicon) hold their file open until closed
                assert response.status_code < 500, f"{method} {url}?page={HUGE_PAGE} as {role}: {response.status_code}"
                walked += 1
    assert walked > 200  # the walk reached the app's routes, not an empty map


@pytest.mark.parametrize("value", [2**63, 2**64 + 1, 10**30])
def test_huge_ids_answer_404(client, db, login_as, value):
    login_as(AdvocateFactory().user)
    assert client.post(f"/asks/{value}/answer", data={"accept": "1"}).status_code == 404
    assert client.get(f"/rewards/{value}/image").status_code == 404


@pytest.mark.parametrize("path", ["/boards", "/points", "/admin/audit", "/admin/asks"])
def test_huge_page_numbers_show_an_empty_page(client, db, login_as, path):
    login_as(AdminFactory())
    response = client.get(f"{path}?page={HUGE_PAGE}")
    assert response.status_code in (200, 403)


def test_405_says_which_methods_are_allowed(client, db):
    response = client.get("/sign-out")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST"}
    response = client.delete("/join")
    assert response.status_code == 405
    assert {"GET", "POST"} <= set(response.headers["Allow"].replace(" ", "").split(","))


def test_api_405_says_which_methods_are_allowed(client, db):
    response = client.get("/api/v1/accounts/1/health")
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert "POST" in response.headers["Allow"]
