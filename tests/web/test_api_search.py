"""/api/v1/advocates searches what is published, never an email address; LIKE wildcards in a
search are taken literally everywhere (the API and the team's directory); empty filters
mean no filter."""

from __future__ import annotations

import pytest

from portal.database import commit
from portal.services import publishing
from tests.factories import AccountFactory, AdminFactory, UserFactory
from tests.publishing import listed_advocate, reference_db  # noqa: F401


def bearer() -> dict:
    _token, plain = publishing.create_token(AdminFactory(), "search")
    commit()
    return {"Authorization": f"Bearer {plain}"}


def found(client, headers, **args) -> set[int]:
    response = client.get("/api/v1/advocates", query_string=args, headers=headers)
    assert response.status_code == 200, response.json
    return {item["advocate_id"] for item in response.json["items"]}


def test_the_api_never_searches_email_addresses(client, db, reference_db):
    headers = bearer()
    hidden = listed_advocate(user=UserFactory(name="Ana Lima", email="ana.secret@hidden-domain.example"))
    assert found(client, headers, q="hidden-domain") == set()
    assert found(client, headers, q="@") == set()
    assert found(client, headers, q="ana.secret") == set()
    # what is published is searched: the name, the company and the job title
    assert found(client, headers, q="ana lima") == {hidden.id}
    assert found(client, headers, q=hidden.account.name.upper()) == {hidden.id}
    assert found(client, headers, q="head of operations") == {hidden.id}


def test_wildcards_in_an_api_search_are_literal(client, db, reference_db):
    headers = bearer()
    percent = listed_advocate(account=AccountFactory(name="100% Uptime Inc"))
    listed_advocate(account=AccountFactory(name="100 Percent Ltd"), job_title="Analyst")
    under = listed_advocate(account=AccountFactory(name="Snake_Case GmbH"), job_title="Analyst")
    listed_advocate(account=AccountFactory(name="SnakeXCase GmbH"), job_title="Analyst")
    slash = listed_advocate(account=AccountFactory(name="A/B Testing"), job_title="Analyst")
    assert found(client, headers, q="%") == {percent.id}
    assert found(client, headers, q="100%") == {percent.id}
    assert found(client, headers, q="_") == {under.id}
    assert found(client, headers, q="snake_case") == {under.id}
    assert found(client, headers, q="a/b") == {slash.id}  # the escape character itself
    assert found(client, headers, q="/") == {slash.id}


def test_wildcards_in_the_directory_search_are_literal(client, db, login_as):
    from tests.factories import AdvocateFactory

    login_as(AdminFactory())
    AdvocateFactory(user=UserFactory(name="Percy Plain"))
    under = AdvocateFactory(user=UserFactory(name="Una Under_score"))
    page = client.get("/admin/advocates", query_string={"q": "_"}).text
    assert "Una Under_score" in page and "Percy Plain" not in page
    assert under.user.name in client.get("/admin/advocates", query_string={"q": "under_"}).text
    assert "Percy Plain" not in client.get("/admin/advocates", query_string={"q": "%"}).text


@pytest.mark.parametrize(
    "args",
    [
        {"product": ""},
        {"industry": "", "region": "", "use_case": "", "activity_type": ""},
        {"available_now": ""},
        {"q": ""},
        {"page": "", "per_page": ""},
        {"cursor": "", "total": ""},
        {"product": "", "industry": "", "region": "", "use_case": "", "activity_type": "", "available_now": "",
         "q": "", "page": "", "per_page": "", "cursor": "", "total": ""},
    ],
    ids=["product", "terms", "available", "q", "paging", "cursor-and-total", "all"],
)
def test_empty_api_filters_mean_no_filter(client, db, reference_db, args):
    headers = bearer()
    everyone = {listed_advocate().id, listed_advocate().id}
    assert found(client, headers, **args) == everyone
