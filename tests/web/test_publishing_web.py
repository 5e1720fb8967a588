"""The team's publishing page, API tokens, and /api/v1 (health in, advocates out)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select, update

from portal.database import commit, db, utcnow
from portal.models import (
    Account,
    ActivityType,
    Advocate,
    ApiToken,
    AuditEvent,
    CheckStatus,
    CheckTrigger,
    ConsentPurpose,
    OutboxKind,
    OutboxMessage,
    ReferenceCheck,
)
from portal.services import availability, checks, publishing
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
    assert "Never checked yet" in consistency(html)
    response = submit(client, html, f"/admin/publishing/events/{failing.id}/retry")
    assert response.status_code == 302
    db.session.refresh(failing)
    assert failing.status.value == "sent"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "publishing.retry")) is not None
    assert "No failures" in client.get("/admin/publishing").text


def consistency(html: str) -> str:
    """The text of the page's consistency section (the latest check), spaces collapsed."""
    page = parse(html)
    [section] = [e for e in page.elements if e.attrs.get("id") == "reference-consistency"]
    return " ".join(section.text.split())


def test_check_now_runs_as_a_job_and_the_page_shows_its_stored_result(client, db, login_as, reference_db):
    admin = login_as(AdminFactory(name="Ada Admin"))
    listed_advocate()
    html = client.get("/admin/publishing").text
    assert "Never checked yet" in consistency(html)

    response = submit(client, html, "/admin/publishing/check")
    assert response.status_code == 302
    page = client.get(response.location)
    assert "The check has started; refresh this page to see the result." in flashes(page.text)
    check = db.session.scalar(select(ReferenceCheck))
    assert (check.status, check.repair, check.trigger, check.started_by_id) == (
        CheckStatus.FINISHED, False, CheckTrigger.ADMIN, admin.id)
    assert check.in_progress is None and check.difference_count == 0 and check.error == ""
    assert check.finished_at is not None and check.advocates_done == check.advocates_total >= 1
    text = consistency(page.text)
    assert f"Last checked {check.finished_at:%Y-%m-%d %H:%M} UTC, started by Ada Admin" in text
    assert "no differences, a rebuild would change nothing" in text


def test_the_publishing_page_says_when_the_reference_database_is_down(app, client, db, login_as, reference_db):
    login_as(AdminFactory())
    app.config["REFERENCE_DATABASE_URL"] = "sqlite:////nonexistent-folder/reference.sqlite3"
    html = client.get("/admin/publishing").text
    assert "does not answer" in html
    assert "cannot be checked" in html
    response = client.post("/admin/publishing/rebuild", follow_redirects=True)
    assert response.status_code == 200
    assert any("has started" in f for f in flashes(response.text))
    # The job recorded the failure (the request did not fail with it), and the page shows it.
    check = db.session.scalar(select(ReferenceCheck))
    assert check.status is CheckStatus.FAILED and check.in_progress is None
    assert check.error.startswith("The reference database did not answer: OperationalError")
    text = consistency(response.text)
    assert "The last rebuild (started by" in text and "did not finish" in text and "did not answer" in text
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "publishing.rebuild")) is None
    # It did not block the next one.
    assert client.post("/admin/publishing/check").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ReferenceCheck)) == 2


def test_rebuild_now_repairs_and_is_audited(client, db, login_as, reference_db):
    admin = login_as(AdminFactory())
    advocate = listed_advocate()
    from portal import reference

    with reference.engine().begin() as conn:
        conn.execute(reference.advocates.delete())
    client.post("/admin/publishing/check")
    text = consistency(client.get("/admin/publishing").text)
    assert "1 difference:" in text and f"Advocate #{advocate.id}: Missing: would be added" in text
    assert published(advocate.id) is None  # a check changes nothing

    response = client.post("/admin/publishing/rebuild", follow_redirects=True)
    assert "The rebuild has started; refresh this page to see the result." in flashes(response.text)
    assert published(advocate.id) is not None
    text = consistency(response.text)
    assert "Last rebuilt" in text and "1 difference, all corrected:" in text and "Missing: added" in text
    rebuild = db.session.scalar(select(ReferenceCheck).where(ReferenceCheck.repair.is_(True)))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "publishing.rebuild"))
    assert event.actor_id == admin.id and "1 rows corrected" in event.summary
    assert (event.subject_type, event.subject_id) == ("reference_checks", rebuild.id)
    assert event.details == {"advocates": [advocate.id]}


def test_the_availability_states_are_checked_and_rebuilt_from_the_same_page(client, db, login_as, reference_db):
    from portal.models import AdvocateAvailability

    admin = login_as(AdminFactory())
    advocate = listed_advocate()
    commit()
    state = db.session.get(AdvocateAvailability, advocate.id)
    assert state.askable
    state.askable_from, state.askable = None, False  # damaged behind the portal's back
    commit()

    def section(html: str) -> str:
        [element] = [e for e in parse(html).elements if e.attrs.get("id") == "availability-consistency"]
        return element.text

    client.post("/admin/publishing/availability/check")
    text = section(client.get("/admin/publishing").text)
    assert "1 difference:" in text and f"Advocate #{advocate.id}: Out of date: would be updated" in text
    assert "askable_from" in text
    assert db.session.get(AdvocateAvailability, advocate.id, populate_existing=True).askable_from is None

    response = client.post("/admin/publishing/availability/rebuild", follow_redirects=True)
    assert "1 difference, all corrected:" in section(response.text)
    assert availability.differences() == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "availability.rebuild"))
    assert event.actor_id == admin.id and "1 advocates corrected" in event.summary
    assert client.post("/admin/publishing/nothing/check").status_code == 404


def test_a_check_keeps_and_lists_the_first_20_differences(client, db, login_as, reference_db):
    login_as(AdminFactory())
    advocates = [listed_advocate() for _ in range(23)]
    from portal import reference

    with reference.engine().begin() as conn:
        conn.execute(reference.advocates.delete())
    client.post("/admin/publishing/check")
    check = db.session.scalar(select(ReferenceCheck))
    assert check.difference_count == 23
    assert [d["advocate_id"] for d in check.differences] == sorted(a.id for a in advocates)[:20]
    html = client.get("/admin/publishing").text
    assert "23 differences (the first 20 listed):" in consistency(html)
    links = [e for e in parse(html).elements if e.tag == "a" and e.text.startswith("Advocate #")]
    assert len(links) == 20


def test_a_second_start_is_refused_while_one_runs(client, db, login_as, reference_db):
    login_as(AdminFactory())
    running = checks.start_check(AdminFactory(name="Bea Busy"), repair=True)  # a worker has not taken it yet
    commit()

    html = client.get("/admin/publishing").text
    text = consistency(html)
    assert f"A rebuild started by Bea Busy at {running.requested_at:%H:%M} UTC is waiting for a job worker." in text
    [section] = [e for e in parse(html).elements if e.attrs.get("id") == "reference-consistency"]
    assert section.attrs["hx-get"] == "/admin/publishing?part=reference"  # htmx asks again until it is done
    assert "Never checked yet" in text
    for action in ("/admin/publishing/check", "/admin/publishing/rebuild"):
        response = client.post(action, follow_redirects=True)
        assert response.status_code == 200
        assert any("is waiting for a job worker: wait for it to finish before starting another." in f
                   for f in flashes(response.text)), flashes(response.text)
    assert db.session.scalar(select(func.count()).select_from(ReferenceCheck)) == 1

    # A worker takes it: the page (and its htmx refresh) shows it running, then its result.
    db.session.execute(update(ReferenceCheck).values(status=CheckStatus.RUNNING, advocates_total=52000, advocates_done=12000))
    commit()
    fragment = client.get("/admin/publishing", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment
    assert "is running: 12,000 of 52,000 advocates compared." in " ".join(fragment.split())
    db.session.execute(update(ReferenceCheck).values(status=CheckStatus.QUEUED))
    checks.run_check(running.id)
    fragment = client.get("/admin/publishing", headers={"HX-Request": "true"}).text
    assert "hx-get" not in fragment and "Last rebuilt" in fragment


def test_a_check_lost_with_its_worker_is_replaced_by_the_next_start(client, db, login_as, reference_db):
    login_as(AdminFactory())
    lost = checks.start_check(None, repair=False, trigger=CheckTrigger.NIGHTLY)
    lost.alive_at = utcnow() - checks.CHECK_LOST_AFTER - timedelta(minutes=1)
    commit()
    assert "It has shown no sign of life since" in consistency(client.get("/admin/publishing").text)
    response = client.post("/admin/publishing/check", follow_redirects=True)
    assert any("has started" in f for f in flashes(response.text))
    db.session.refresh(lost)
    assert lost.status is CheckStatus.FAILED and lost.error.startswith("Gave up: no sign of life for 15 minutes")
    assert "no differences" in consistency(response.text)


def test_retry_of_an_unknown_event_says_so(client, db, login_as):
    login_as(AdminFactory())
    response = client.post("/admin/publishing/events/999999/retry", follow_redirects=True)
    assert any("No such publish event" in f for f in flashes(response.text))


@pytest.mark.parametrize("factory", [UserFactory, StaffFactory])
def test_publishing_actions_are_for_admins_only(client, db, login_as, factory):
    login_as(factory())
    for path in ("/admin/publishing/retry-all", "/admin/publishing/check", "/admin/publishing/rebuild", "/admin/publishing/tokens",
                 "/admin/publishing/tokens/1/revoke"):
        assert client.post(path).status_code == 403


# --- API tokens --------------------------------------------------------------------------------


def test_an_admin_creates_a_token_shown_once_and_stored_hashed(client, db, login_as):
    login_as(AdminFactory())
    html = client.get("/admin/publishing/tokens").text
    assert "No tokens yet" in html
    response = submit(client, html, "/admin/publishing/tokens", name="Gainsight health feed", scopes=["accounts:write"])
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
    assert "account_at_risk" in availability.check(db.session.get(Advocate, advocate.id), call).codes

    response = client.post(f"/api/v1/accounts/{account_id}/health", json={"status": "healthy"}, headers=bearer(plain))
    assert response.json["status"] == "healthy"
    assert published(advocate.id)["available_now"] is True
    assert "account_at_risk" not in availability.check(db.session.get(Advocate, advocate.id), call).codes
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

    # available_now narrows the same set, counted the same way (the account joined or not)
    listed[0].paused_until = utcnow().date() + timedelta(days=5)
    other.account.at_risk = True
    commit()
    free = client.get("/api/v1/advocates?available_now=true", headers=bearer(plain)).json
    assert free["total"] == 2 and {i["advocate_id"] for i in free["items"]} == {listed[1].id, listed[2].id}
    busy = client.get("/api/v1/advocates?available_now=false&q=a", headers=bearer(plain)).json
    assert busy["total"] == 2 and {i["advocate_id"] for i in busy["items"]} == {listed[0].id, other.id}


def test_cursor_pages_walk_every_row_once_and_carry_the_first_count(client, db, reference_db):
    plain = api_token()
    listed = [listed_advocate() for _ in range(7)]
    commit()
    first = client.get("/api/v1/advocates?per_page=3", headers=bearer(plain)).json
    pages, seen = [first], [i["advocate_id"] for i in first["items"]]
    while pages[-1]["next"]:
        assert "cursor=" in pages[-1]["next"] and "&page=" not in pages[-1]["next"]
        pages.append(client.get(pages[-1]["next"], headers=bearer(plain)).json)
        seen += [i["advocate_id"] for i in pages[-1]["items"]]
    assert seen == sorted(a.id for a in listed)  # every row once, in id order
    assert [p["page"] for p in pages] == [1, 2, 3] and {p["total"] for p in pages} == {7}
    assert client.get("/api/v1/advocates?per_page=3&total=false", headers=bearer(plain)).json["total"] is None
    # Numbered pages still work for v1 clients that send page=.
    legacy = client.get("/api/v1/advocates?per_page=3&page=2", headers=bearer(plain)).json
    assert legacy["total"] == 7 and len(legacy["items"]) == 3 and "page=3" in legacy["next"]


@pytest.mark.parametrize("query", ["cursor=nonsense", "cursor=WzEsMiwiYSJd", "cursor=" + "A" * 300, "cursor=W10&page=2"])
def test_a_bad_cursor_is_a_field_error(client, db, reference_db, query):
    plain = api_token()
    response = client.get(f"/api/v1/advocates?{query}", headers=bearer(plain))
    assert response.status_code == 422 and "cursor" in response.json["error"]["fields"]


def test_a_deep_cursor_page_sends_the_same_statements_as_the_second(client, db, reference_db):
    from tests.web.intake import statements

    plain = api_token()
    for _ in range(12):
        listed_advocate()
    commit()
    links = [client.get("/api/v1/advocates?per_page=2", headers=bearer(plain)).json["next"]]
    while True:
        following = client.get(links[-1], headers=bearer(plain)).json["next"]
        if not following:
            break
        links.append(following)
    db.session.expunge_all()
    with statements() as second:
        client.get(links[0], headers=bearer(plain))
    with statements() as deep:
        client.get(links[-1], headers=bearer(plain))
    assert len(deep) == len(second) and not any("count(" in s.lower() for s in deep)


def test_sellers_see_the_teams_answer_limits_included(client, db, taxonomies, reference_db):
    """An advocate at their monthly limit is unavailable in the API and the reference
    database, with the next date, exactly as the directory and the ask rule say."""
    from portal.services import asks, directory

    plain = api_token()
    busy, free = listed_advocate(), listed_advocate()
    call = db.session.scalar(select(ActivityType).where(ActivityType.key == "reference_call"))
    busy.activity_types = [call]
    commit()
    asks.create_ask(AdminFactory(), busy.id, call, asks.AskContext("Prospect", utcnow().date() + timedelta(days=5)))
    commit()
    verdict = availability.check(busy, call)
    assert not verdict.allowed and "month_limit" in verdict.codes
    rows = {i["advocate_id"]: i for i in client.get("/api/v1/advocates", headers=bearer(plain)).json["items"]}
    assert rows[busy.id]["available_now"] is False and rows[busy.id]["unavailable_reason"] == "month_limit"
    assert rows[busy.id]["next_available_at"][:10] >= verdict.next_allowed.isoformat()
    assert rows[free.id]["available_now"] is True and rows[free.id]["next_available_at"] is None
    assert published(busy.id)["available_now"] is False
    in_directory = {a.id for a in db.session.scalars(directory.search(directory.Filters(available_now=True)))}
    via_api = {i["advocate_id"] for i in client.get("/api/v1/advocates?available_now=true", headers=bearer(plain)).json["items"]}
    assert free.id in in_directory and busy.id not in in_directory and via_api == in_directory & {busy.id, free.id}


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


def _checked_advocates(n):
    """n more listed advocates missing from the reference database, found by a check (past
    20 of them, the stored result keeps only the first 20), and the next check waiting."""
    from portal import reference

    new = [listed_advocate() for _ in range(n)]
    with reference.engine().begin() as conn:
        conn.execute(reference.advocates.delete().where(reference.advocates.c.advocate_id.in_([a.id for a in new])))
    db.session.execute(update(ReferenceCheck).where(ReferenceCheck.in_progress.is_not(None)).values(status=CheckStatus.QUEUED))
    for check in db.session.scalars(select(ReferenceCheck).where(ReferenceCheck.in_progress.is_not(None))):
        checks.run_check(check.id)
    checks.run_check(checks.start_check(AdminFactory(), repair=False).id)
    checks.start_check(AdminFactory(), repair=True)


@pytest.mark.parametrize(("path", "add"), [
    ("/admin/publishing", _failing_events), ("/admin/publishing", _checked_advocates), ("/admin/publishing/tokens", _tokens),
])
def test_publishing_pages_send_as_many_queries_for_30_rows_as_for_3(client, db, login_as, reference_db, path, add):
    login_as(AdminFactory())
    add(3)
    few = queries_to_render(client, path)
    add(27)
    many = queries_to_render(client, path)
    assert len(many) == len(few)


def test_the_publishing_page_reads_no_advocate_whatever_the_program_size(client, db, login_as, reference_db):
    """The page shows the stored result of the latest check: it never compares advocates
    itself (at 100k that took a minute), and asks the reference database one thing only.
    Of the advocates it reads one page of who is published and its count (an index)."""
    from portal import reference
    from tests.web.intake import statements

    login_as(AdminFactory())
    for _ in range(5):
        listed_advocate()
    checks.run_check(checks.start_check(None, repair=False, trigger=CheckTrigger.COMMAND).id)
    commit()
    db.session.expunge_all()
    asked = []
    sqlalchemy_event.listen(reference.engine(), "before_cursor_execute", lambda *args: asked.append(args[2]))
    with statements() as sent:
        assert client.get("/admin/publishing").status_code == 200
    reading = [s for s in sent if re.search(r"\b(advocates|consents)\b", s)]
    assert len(reading) == 2 and sum(" LIMIT " in s.upper() for s in reading) == 1, reading
    assert len([s for s in sent if "reference_checks" in s]) == 2  # the latest check of each subject
    assert len(asked) == 1 and "count(*)" in asked[0].lower()


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
