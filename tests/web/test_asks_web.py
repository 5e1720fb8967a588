"""The asks feature over HTTP: who may use each page and action, bad input on every form,
the refusal an admin sees (and the audited override), htmx and plain-form answers, CSRF, and
a seller's reference request from the staff form to a fulfilled or unfillable request.
The rules themselves are tested without HTTP in tests/services/."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from portal.database import commit, db
from portal.models import (
    Ask,
    AskOutcome,
    AskStatus,
    AuditEvent,
    Blackout,
    ProgramSettings,
    QueueStatus,
    ReferenceRequest,
    Region,
    RequestStatus,
    Term,
)
from portal.services import availability
from tests.web import test_intake_csrf as intake_csrf
from tests.web.asks import (
    activity,
    advocate_today,
    ask_data,

    blackout_data,
    build_asks_world,
    contact_data,
    days_from_today,
    make_ask,
    queue_item_of,
    request_data,
    settings_data,
)
from tests.web.intake import MISSING_ID, error_beside, flashes, named, refused, snapshot, text_of
from tests.web.pages import find_form, fresh, parse, redirect_target, submit
from tests.web.test_intake_access import (
    FORBIDDEN,
    NOT_FOUND,
    SIGN_IN,
    Route,
    admins,
    advocates,
    assert_answer,
    matrix,
    team,
)

# --- who may use what -----------------------------------------------------------------------

RECORDS = ("ask", "accepted", "other_ask", "blackout", "other_blackout", "request", "request_item", "advocate")


def _has_record(route: Route) -> bool:
    return any(f"{{{name}}}" in route.path for name in RECORDS)


# What an allowed role gets: a page (200), a redirect after the change (302), or 422 for the
# empty form posted here. {blackout} and {ask} are the first advocate's: another advocate
# gets 404, as if they did not exist.
ROUTES = [
    Route("POST", "/preferences/contact", advocates(422)),
    Route("POST", "/preferences/blackouts", advocates(422)),
    Route("POST", "/preferences/blackouts/{blackout}/delete", advocates(302, other=NOT_FOUND)),
    Route("GET", "/asks", advocates(200)),
    Route("POST", "/asks/{ask}/answer", advocates(302, other=NOT_FOUND), {"answer": "decline"}),
    Route("GET", "/admin/asks", admins(200)),
    Route("GET", "/admin/asks?status=sent", admins(200)),
    Route("GET", "/admin/asks/new", admins(200)),
    Route("GET", "/admin/asks/new?advocate_id={advocate}&request_id={request}", admins(200)),
    Route("POST", "/admin/asks/new", admins(422)),
    Route("POST", "/admin/asks/new?advocate_id={advocate}", admins(422)),
    Route("GET", "/admin/asks/{ask}", admins(200)),
    Route("POST", "/admin/asks/{ask}", admins(302), {"action": "withdraw"}),
    Route("POST", "/admin/asks/{accepted}", admins(302), {"action": "complete", "outcome": "won"}),
    Route("GET", "/admin/settings", admins(200)),
    Route("POST", "/admin/settings", admins(422)),
    Route("GET", "/staff/requests", team(200)),
    Route("POST", "/staff/requests", team(422)),
    Route("GET", "/admin/queue/{request_item}", admins(200)),
]

# Every record id in a URL, pointing at nothing.
MISSING = [
    Route("GET", "/admin/asks/{ask}", admins(NOT_FOUND)),
    Route("POST", "/admin/asks/{ask}", admins(NOT_FOUND), {"action": "withdraw"}),
    Route("GET", "/admin/asks/new?advocate_id={advocate}", admins(NOT_FOUND)),
    Route("POST", "/admin/asks/new?advocate_id={advocate}", admins(NOT_FOUND)),
    Route("GET", "/admin/asks/new?advocate_id=abc", admins(NOT_FOUND)),
    Route("GET", "/admin/asks/new?advocate_id={real_advocate}&request_id={request}", admins(NOT_FOUND)),
    Route("GET", "/admin/queue/{request_item}", admins(NOT_FOUND)),
    Route("POST", "/asks/{ask}/answer", advocates(NOT_FOUND), {"answer": "accept"}),
    Route("POST", "/preferences/blackouts/{blackout}/delete", advocates(NOT_FOUND)),
]


def _request_as(client, login_as, world, route, role, ids):
    user = world.user(role)
    if user is not None:
        login_as(user)
    path = route.path.format(**ids)
    return path, client.open(path, method=route.method, data=route.data)


@pytest.mark.parametrize(**matrix(ROUTES))
def test_who_may_use_each_asks_page_and_action(client, db, login_as, route, role):
    world = build_asks_world()
    before = snapshot()

    path, response = _request_as(client, login_as, world, route, role, world.ids())

    expected = route.expect[role]
    assert_answer(response, path, expected)
    if expected in (SIGN_IN, FORBIDDEN, NOT_FOUND):
        assert snapshot() == before, "a refused request changed the database"
    if role in ("anonymous", "other_advocate", "staff"):
        # Nothing of the first advocate's asks reaches anyone but them and the admins; the
        # seller sees "an advocate" until one accepts.
        for secret in ("Olivia", "Olivia&#39;s Prospect", "Olivia&#39;s Accepted Prospect"):
            assert secret not in response.text


@pytest.mark.parametrize(**matrix(MISSING))
def test_every_record_id_in_an_asks_url_is_checked(client, db, login_as, route, role):
    world = build_asks_world()
    ids = {**dict.fromkeys(RECORDS, MISSING_ID), "real_advocate": world.world.owner.id}
    before = snapshot()

    path, response = _request_as(client, login_as, world, route, role, ids)

    assert_answer(response, path, route.expect[role])
    assert snapshot() == before


def test_an_advocate_never_sees_or_answers_another_advocates_ask(client, db, login_as):
    world = build_asks_world()
    login_as(world.world.other.user)

    page = client.get("/asks")
    assert "Oscar&#39;s Prospect" in page.text
    assert "Olivia" not in page.text
    assert f"/asks/{world.ask.id}/answer" not in page.text

    before = snapshot()
    for answer in ("accept", "decline"):
        response = client.post(f"/asks/{world.ask.id}/answer", data={"answer": answer})
        assert response.status_code == 404
        response = client.post(f"/asks/{world.ask.id}/answer", data={"answer": answer}, headers={"HX-Request": "true"})
        assert response.status_code == 404
    assert snapshot() == before
    assert fresh(world.ask).status is AskStatus.SENT


def test_an_advocate_cannot_remove_another_advocates_blackout(client, db, login_as):
    world = build_asks_world()
    login_as(world.world.other.user)
    before = snapshot()

    response = client.post(f"/preferences/blackouts/{world.blackout.id}/delete")

    assert response.status_code == 404
    assert snapshot() == before
    page = client.get("/preferences")
    assert f"/preferences/blackouts/{world.blackout.id}/delete" not in page.text
    assert f"/preferences/blackouts/{world.other_blackout.id}/delete" in page.text


def test_an_advocate_removes_their_own_blackout(client, db, login_as):
    world = build_asks_world()
    login_as(world.world.owner.user)

    response = client.post(f"/preferences/blackouts/{world.blackout.id}/delete")

    assert redirect_target(response)[0] == "/preferences"
    assert db.session.get(Blackout, world.blackout.id) is None
    assert db.session.get(Blackout, world.other_blackout.id) is not None


# --- bad input on every form ----------------------------------------------------------------

FORGED_ID = str(MISSING_ID)


@pytest.fixture
def world(db):
    return build_asks_world()


def yesterday() -> str:
    return days_from_today(-2)  # before today in every time zone


def test_good_contact_preferences_are_saved(client, world, login_as):
    login_as(world.world.owner.user)

    response = client.post("/preferences/contact", data=contact_data(month_limit="0", quarter_limit="2",
                                                                     channel="phone", phone="+507 555 0101"))

    assert redirect_target(response)[0] == "/preferences"
    owner = fresh(world.world.owner)
    assert (owner.month_limit, owner.quarter_limit, owner.phone) == (0, 2, "+507 555 0101")
    assert {a.key for a in owner.activity_types} == {"reference_call", "quote"}


# field, value posted, message beside it (the program allows 1 a month and 3 a quarter)
CONTACT_ERRORS = [
    ("month_limit", "2", "The program allows at most 1 a month; you can only choose fewer."),
    ("month_limit", "-1", "Enter 0 or more."),
    ("month_limit", "lots", "Enter 0 or more."),
    ("quarter_limit", "4", "The program allows at most 3 a quarter; you can only choose fewer."),
    ("quarter_limit", "0", "allow at least as many a quarter as a month"),
    ("paused_until", "{yesterday}", "Choose a date after today, or clear the pause."),
    ("paused_until", "next week", "Not a valid date value."),
    ("hours_end", "8", "The end of your contact hours must come after the start."),
    ("hours_end", "25", "Not a valid choice."),
    ("hours_start", "dawn", "could not coerce"),
    ("channel", "", "Choose email or phone."),
    ("channel", "pigeon", "Not a valid choice."),
    ("phone", "x" * 41, "Field cannot be longer than 40 characters."),
    ("activity_types", [FORGED_ID], f"'{FORGED_ID}' is not a valid choice for this field."),
    ("activity_types", ["reference_call"], "could not be coerced"),
    ("contact_days", ["8"], "'8' is not a valid choice for this field."),
    ("contact_days", ["monday"], "could not be coerced"),
]


@pytest.mark.parametrize(("name", "value", "message"), CONTACT_ERRORS, ids=[f"{n}={str(v)[:20]!r}" for n, v, _ in CONTACT_ERRORS])
def test_the_contact_preferences_form_refuses_bad_input(client, world, login_as, name, value, message):
    login_as(world.world.owner.user)
    data = contact_data(**{name: value.format(yesterday=yesterday()) if isinstance(value, str) else value})
    if name == "quarter_limit" and value == "0":
        data["contact-month_limit"] = "1"
    before = snapshot()

    response = client.post("/preferences/contact", data=data)

    refused(response, "/preferences/contact", f"contact-{name}", message)
    assert snapshot() == before


def test_choosing_phone_needs_a_number(client, world, login_as):
    login_as(world.world.owner.user)
    before = snapshot()

    response = client.post("/preferences/contact", data=contact_data(channel="phone", phone="  "))

    refused(response, "/preferences/contact", "contact-phone", "Enter the number to call, or choose email.")
    assert snapshot() == before


def test_a_pause_already_set_may_stay_while_a_new_past_one_may_not(client, world, login_as):
    owner = world.world.owner
    owner.paused_until = advocate_today(owner)  # set earlier; today it ends
    commit()
    login_as(owner.user)

    kept = client.post("/preferences/contact", data=contact_data(paused_until=owner.paused_until.isoformat()))
    assert kept.status_code == 302

    before = snapshot()
    response = client.post("/preferences/contact", data=contact_data(paused_until=yesterday()))
    refused(response, "/preferences/contact", "contact-paused_until", "Choose a date after today")
    assert snapshot() == before


BLACKOUT_ERRORS = [
    ("ends_on", {"starts_on": "{in40}", "ends_on": "{in30}"}, "The blackout must end on or after the day it starts."),
    ("starts_on", {"starts_on": ""}, "Enter the first day."),
    ("ends_on", {"ends_on": ""}, "Enter the last day."),
    ("starts_on", {"starts_on": "31/02/2030"}, "Enter the first day."),
    ("ends_on", {"starts_on": "{past10}", "ends_on": "{past3}"}, "This blackout is already over."),
    ("note", {"note": "x" * 201}, "Field cannot be longer than 200 characters."),
]


@pytest.mark.parametrize(("name", "values", "message"), BLACKOUT_ERRORS, ids=[m[:30] for _, _, m in BLACKOUT_ERRORS])
def test_the_blackout_form_refuses_bad_input(client, world, login_as, name, values, message):
    login_as(world.world.owner.user)
    dates = {"in40": days_from_today(40), "in30": days_from_today(30), "past10": days_from_today(-10), "past3": days_from_today(-3)}
    before = snapshot()

    response = client.post("/preferences/blackouts", data=blackout_data(**{k: v.format(**dates) for k, v in values.items()}))

    refused(response, "/preferences/blackouts", f"blackout-{name}", message)
    assert snapshot() == before


def test_a_good_blackout_is_added(client, world, login_as):
    login_as(world.world.owner.user)

    response = client.post("/preferences/blackouts", data=blackout_data())

    assert redirect_target(response)[0] == "/preferences"
    page = client.get(response.headers["Location"])
    assert "Blackout added" in " ".join(flashes(page.text))
    assert "Busy season" in page.text


ASK_ERRORS = [
    ("prospect_company", "", "Name the prospect."),
    ("prospect_company", "   ", "Name the prospect."),
    ("prospect_company", "x" * 201, "Field cannot be longer than 200 characters."),
    ("due_on", "{yesterday}", "The due date is in the past."),
    ("due_on", "", "Enter the date you need an answer by."),
    ("due_on", "soon", "Enter the date you need an answer by."),
    ("deal_size", "-1", "Enter 0 or more."),
    ("deal_size", "lots", "Not a valid decimal value"),
    ("deal_size", "1000000000000", "Enter an amount below 1,000,000,000,000."),
    ("activity_type", "0", "Choose what you ask for."),
    ("activity_type", "", "Choose what you ask for."),
    ("activity_type", FORGED_ID, "Not a valid choice."),
    ("activity_type", "call", "Choose what you ask for."),
    ("opportunity_id", "x" * 101, "Field cannot be longer than 100 characters."),
    ("notes", "x" * 2001, "Field cannot be longer than 2000 characters."),
]


@pytest.mark.parametrize(("name", "value", "message"), ASK_ERRORS, ids=[f"{n}={v[:20]!r}" for n, v, _ in ASK_ERRORS])
def test_the_new_ask_form_refuses_bad_input(client, world, login_as, name, value, message):
    login_as(world.world.admin)
    path = f"/admin/asks/new?advocate_id={world.world.owner.id}"
    before = snapshot()

    response = client.post(path, data=ask_data(**{name: value.format(yesterday=yesterday())}))

    refused(response, None, name, message)
    assert "The rules refuse this ask" not in response.text
    assert snapshot() == before


def test_a_good_ask_is_sent(client, world, login_as):
    login_as(world.world.admin)
    owner = world.world.owner

    response = client.post(f"/admin/asks/new?advocate_id={owner.id}", data=ask_data())

    assert response.status_code == 302, response.text[:3000]
    ask = db.session.scalar(select(Ask).where(Ask.prospect_company == "Banco Futuro"))
    assert ask.advocate_id == owner.id and ask.override_reason is None
    assert redirect_target(response)[0] == f"/admin/asks/{ask.id}"


COMPLETE_ERRORS = [
    ("outcome_amount", {"outcome": "won", "outcome_amount": "-5"}, "Enter 0 or more."),
    ("outcome_amount", {"outcome": "won", "outcome_amount": "a lot"}, "Not a valid decimal value"),
    ("outcome_amount", {"outcome": "won", "outcome_amount": "99999999999999999999"}, "Enter an amount below"),
    ("outcome", {"outcome": ""}, "Choose the outcome."),
    ("outcome", {}, "Choose the outcome."),
    ("outcome", {"outcome": "jackpot"}, "Not a valid choice."),
]


@pytest.mark.parametrize(("name", "values", "message"), COMPLETE_ERRORS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(COMPLETE_ERRORS)])
def test_completing_an_ask_refuses_bad_input(client, world, login_as, name, values, message):
    login_as(world.world.admin)
    before = snapshot()

    response = client.post(f"/admin/asks/{world.accepted.id}", data={"action": "complete", **values})

    refused(response, None, name, message)
    assert snapshot() == before


@pytest.mark.parametrize(("status", "action"), [
    (AskStatus.SENT, "complete"), (AskStatus.DECLINED, "complete"), (AskStatus.COMPLETED, "complete"),
    (AskStatus.DECLINED, "withdraw"), (AskStatus.COMPLETED, "withdraw"), (AskStatus.WITHDRAWN, "withdraw"),
])
def test_an_ask_in_the_wrong_state_is_refused_with_a_message(client, world, login_as, status, action):
    ask = make_ask(world.world.owner, status=status)
    commit()
    login_as(world.world.admin)
    before = snapshot()

    response = client.post(f"/admin/asks/{ask.id}", data={"action": action, "outcome": "won", "outcome_amount": "10"})

    assert response.status_code == 422
    alerts = [" ".join(e.text.split()) for e in parse(response.text).elements if e.attrs.get("role") == "alert"]
    assert f"This ask is {status.label.lower()} and cannot change that way." in alerts
    assert snapshot() == before


def test_a_completed_ask_records_the_outcome(client, world, login_as):
    login_as(world.world.admin)

    response = client.post(f"/admin/asks/{world.accepted.id}", data={"action": "complete", "outcome": "won",
                                                                     "outcome_amount": "125000.50"})

    assert redirect_target(response)[0] == f"/admin/asks/{world.accepted.id}"
    ask = fresh(world.accepted)
    assert (ask.status, ask.outcome, str(ask.outcome_amount)) == (AskStatus.COMPLETED, AskOutcome.WON, "125000.50")
    assert "Outcome recorded." in flashes(client.get(response.headers["Location"]).text)


SETTINGS_ERRORS = [
    ("quarter_limit", {"month_limit": "3", "quarter_limit": "2"}, "allow at least as many a quarter as a month"),
    ("month_limit", {"month_limit": "0"}, "Between 1 and 31."),
    ("month_limit", {"month_limit": "32"}, "Between 1 and 31."),
    ("month_limit", {"month_limit": ""}, "Enter a number."),
    ("month_limit", {"month_limit": "one"}, "Not a valid integer value."),
    ("quarter_limit", {"quarter_limit": "0"}, "Between 1 and 93."),
    ("quarter_limit", {"quarter_limit": "3.5"}, "Not a valid integer value."),
    ("light_cooldown_days", {"light_cooldown_days": "-1"}, "Between 0 and 365."),
    ("light_cooldown_days", {"light_cooldown_days": ""}, "Enter a number."),
    ("heavy_cooldown_days", {"heavy_cooldown_days": "sixty"}, "Not a valid integer value."),
    ("heavy_cooldown_days", {"heavy_cooldown_days": "366"}, "Between 0 and 365."),
]


@pytest.mark.parametrize(("name", "values", "message"), SETTINGS_ERRORS, ids=[f"{n}={v}" for n, v, _ in SETTINGS_ERRORS])
def test_the_settings_form_refuses_bad_input(client, world, login_as, name, values, message):
    login_as(world.world.admin)
    before = snapshot()

    response = client.post("/admin/settings", data=settings_data(**values))

    refused(response, None, name, message)
    assert snapshot() == before


def test_good_settings_are_saved_and_audited(client, world, login_as):
    login_as(world.world.admin)

    response = client.post("/admin/settings", data=settings_data(month_limit="2", quarter_limit="5", light_cooldown_days="0"))

    assert redirect_target(response)[0] == "/admin/settings"
    program = db.session.get(ProgramSettings, 1)
    assert (program.month_limit, program.quarter_limit, program.light_cooldown_days) == (2, 5, 0)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings.contact_rules")) is not None


REQUEST_ERRORS = [
    ("prospect_company", "", "Name the prospect."),
    ("prospect_company", "  ", "Name the prospect."),
    ("how_many", "0", "Between 1 and 10."),
    ("how_many", "11", "Between 1 and 10."),
    ("how_many", "", "Enter a number."),
    ("how_many", "two", "Not a valid integer value."),
    ("due_on", "{yesterday}", "The date is in the past."),
    ("due_on", "", "Enter the date you need the references by."),
    ("due_on", "2026-13-45", "Enter the date you need the references by."),
    ("deal_size", "-3", "Enter 0 or more."),
    ("deal_size", "1e400x", "Not a valid decimal value"),
    ("deal_size", "1e309", "Enter an amount below 1,000,000,000,000."),
    ("activity_type", "0", "Choose an activity."),
    ("activity_type", FORGED_ID, "Not a valid choice."),
    ("products", [FORGED_ID], f"'{FORGED_ID}' is not a valid choice for this field."),
    ("products", ["gateway"], "could not be coerced"),
    ("industry", FORGED_ID, "Not a valid choice."),
    ("region", "latam", "could not coerce"),
    ("notes", "x" * 2001, "Field cannot be longer than 2000 characters."),
]


@pytest.mark.parametrize(("name", "value", "message"), REQUEST_ERRORS, ids=[f"{n}={str(v)[:20]!r}" for n, v, _ in REQUEST_ERRORS])
def test_the_reference_request_form_refuses_bad_input(client, world, login_as, name, value, message):
    login_as(world.world.staff)
    before = snapshot()

    response = client.post("/staff/requests", data=request_data(**{name: value.format(yesterday=yesterday()) if isinstance(value, str) else value}))

    refused(response, None, name, message)
    assert snapshot() == before


# Garbage in every field of every form: a refusal, never a 500, never a write.
GARBAGE = ["", " ", "-1", "0", "99999999999999999999", "1e309", "NaN", "abc", "2026-02-30", "<script>", "\u0000", "🙂"]


def _forms(world):
    owner = world.world.owner
    return [
        ("advocate", "/preferences/contact", list(contact_data())),
        ("advocate", "/preferences/blackouts", list(blackout_data())),
        ("advocate", f"/asks/{world.ask.id}/answer", ["answer", "reason"]),
        ("admin", f"/admin/asks/new?advocate_id={owner.id}", [*ask_data(), "advocate_id", "request_id"]),
        ("admin", f"/admin/asks/{world.accepted.id}", ["action", "outcome", "outcome_amount"]),
        ("admin", "/admin/settings", list(settings_data())),
        ("staff", "/staff/requests", list(request_data())),
    ]


@pytest.mark.parametrize("garbage", GARBAGE, ids=[repr(g) for g in GARBAGE])
def test_garbage_in_any_field_never_answers_500(client, world, login_as, garbage):
    valid = {
        "/preferences/contact": contact_data(),
        "/preferences/blackouts": blackout_data(),
        "/admin/settings": settings_data(),
        "/staff/requests": request_data(),
    }
    for role, path, names in _forms(world):
        login_as(world.user(role))
        base = valid.get(path, ask_data() if "/asks/new" in path else {"answer": "decline", "action": "complete",
                                                                         "outcome": "won"})
        for name in names:
            data = {**base, name: garbage}
            before = snapshot()
            response = client.post(path, data=data)
            assert response.status_code < 500, (path, name, response.text[:2000])
            if response.status_code != 302:  # a garbage value a form accepts (a note) may be saved
                assert snapshot() == before, (path, name)


def test_a_nul_byte_in_any_field_is_refused_before_it_reaches_the_database(client, world, login_as):
    login_as(world.world.owner.user)
    before = snapshot()

    response = client.post("/preferences/contact", data=contact_data(phone="+507\x00555"))

    assert response.status_code == 400
    assert snapshot() == before


# --- the refusal an admin sees, and the override ---------------------------------------------


def at_monthly_limit(world):
    owner = world.world.owner
    make_ask(owner, ago=timedelta(0), prospect="Earlier This Month")
    commit()
    return owner


def test_the_rules_refuse_an_ask_with_every_reason_and_the_next_date(client, world, login_as):
    owner = at_monthly_limit(world)
    verdict = availability.check(owner, activity())
    login_as(world.world.admin)
    before = snapshot()

    response = client.post(f"/admin/asks/new?advocate_id={owner.id}", data=ask_data())

    assert response.status_code == 422
    page = text_of(response.text)
    assert "The rules refuse this ask" in page
    today = advocate_today(owner)
    assert f"Olivia Owner allows 1 ask a month and has 1 in {today:%B %Y}." in page
    assert {r.code for r in verdict.refusals} == {"month_limit", "cooldown"}
    for refusal in verdict.refusals:
        assert refusal.message in page
    assert f"Next date it would be allowed: {verdict.next_allowed.day} {verdict.next_allowed:%B %Y}" in page
    assert verdict.next_allowed > today
    # The override field is offered, with what was typed kept.
    assert error_beside(response.text, None, "override_reason") is None
    assert find_form(response.text).fields["prospect_company"] == "Banco Futuro"
    assert snapshot() == before


def test_an_override_needs_a_written_reason_and_is_audited(client, world, login_as):
    owner = at_monthly_limit(world)
    login_as(world.world.admin)
    path = f"/admin/asks/new?advocate_id={owner.id}"

    blank = client.post(path, data=ask_data(override_reason="   "))
    assert blank.status_code == 422
    assert "The rules refuse this ask" in text_of(blank.text)
    assert db.session.scalar(select(func.count(Ask.id)).where(Ask.prospect_company == "Banco Futuro")) == 0

    reason = "The CFO asked for Olivia by name; she agreed on the phone."
    response = submit(client, blank.text, None, to=path, override_reason=reason, activity_type=str(activity().id))

    assert response.status_code == 302, response.text[:3000]
    ask = db.session.scalar(select(Ask).where(Ask.prospect_company == "Banco Futuro"))
    assert ask.override_reason == reason
    assert "Sent despite the rules" in " ".join(flashes(client.get(response.headers["Location"]).text))

    audit_page = text_of(client.get("/admin/audit").text)
    assert "ask.override" in audit_page
    assert reason in audit_page

    record = client.get(f"/admin/advocates/{owner.id}")
    badges = [e for e in parse(record.text).elements if "badge-warning" in e.attrs.get("class", "")]
    assert any(b.text.strip() == "override" for b in badges)
    assert reason in text_of(record.text)


def test_an_ask_the_rules_allow_shows_no_override_field(client, world, login_as):
    login_as(world.world.admin)

    page = client.get(f"/admin/asks/new?advocate_id={world.world.owner.id}")

    assert page.status_code == 200
    assert "override_reason" not in find_form(page.text).fields and 'name="override_reason"' not in page.text


# --- htmx and plain forms -------------------------------------------------------------------

HX = {"HX-Request": "true"}


def test_contact_preferences_over_htmx_answer_with_the_fragment(client, world, login_as):
    login_as(world.world.owner.user)

    response = client.post("/preferences/contact", data=contact_data(month_limit="0"), headers=HX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="contact"' in response.text
    assert "Saved." in text_of(response.text)
    assert fresh(world.world.owner).month_limit == 0


def test_contact_preferences_over_htmx_show_errors_in_the_fragment(client, world, login_as):
    login_as(world.world.owner.user)
    before = snapshot()

    response = client.post("/preferences/contact", data=contact_data(hours_start="18", hours_end="9"), headers=HX)

    assert "<html" not in response.text
    assert "Saved." not in response.text
    refused(response, "/preferences/contact", "contact-hours_end", "must come after the start")
    assert snapshot() == before


def test_contact_preferences_as_a_plain_form_redirect_with_a_flash(client, world, login_as):
    login_as(world.world.owner.user)

    response = client.post("/preferences/contact", data=contact_data())

    assert redirect_target(response)[0] == "/preferences"
    assert "Your contact preferences are saved and apply to the next request." in flashes(
        client.get(response.headers["Location"]).text)


@pytest.mark.parametrize(("answer", "status"), [("accept", AskStatus.ACCEPTED), ("decline", AskStatus.DECLINED)])
def test_answering_over_htmx_returns_the_ask_with_its_new_status(client, world, login_as, answer, status):
    login_as(world.world.owner.user)

    response = client.post(f"/asks/{world.ask.id}/answer", data={"answer": answer, "reason": "Busy month"}, headers=HX)

    assert response.status_code == 200
    assert "<html" not in response.text
    [article] = [e for e in parse(response.text).elements if e.tag == "article"]
    assert article.attrs["id"] == f"ask-{world.ask.id}"
    assert status.label in article.text
    assert "Thank you: your answer is recorded." in article.text
    assert 'action="/asks/' not in response.text  # answered: no buttons any more
    assert fresh(world.ask).status is status


def test_answering_twice_over_htmx_says_why_in_the_fragment(client, world, login_as):
    login_as(world.world.owner.user)
    client.post(f"/asks/{world.ask.id}/answer", data={"answer": "accept"}, headers=HX)
    before = snapshot()

    response = client.post(f"/asks/{world.ask.id}/answer", data={"answer": "decline"}, headers=HX)

    assert response.status_code == 200
    assert "This ask is accepted and cannot change that way." in response.text
    assert snapshot() == before


@pytest.mark.parametrize(("answer", "message"), [
    ("accept", "Thank you: your answer is sent to the advocacy team."),
    ("decline", "Understood: you have declined this request."),
])
def test_answering_as_a_plain_form_redirects_with_a_flash(client, world, login_as, answer, message):
    login_as(world.world.owner.user)
    page = client.get("/asks")

    response = submit(client, page.text, f"/asks/{world.ask.id}/answer", answer=answer)

    assert redirect_target(response)[0] == "/asks"
    assert message in flashes(client.get("/asks").text)


# --- CSRF on every new state change (the checks of test_intake_csrf.py) ------------------------

Change = intake_csrf.Change


def _asks_world_as(login_as, role="advocate"):
    world = build_asks_world()
    login_as(world.user(role))
    return world


def contact_preferences(login_as):
    w = _asks_world_as(login_as)
    return Change("/preferences", "/preferences/contact", contact_data(month_limit="0"),
                  lambda: fresh(w.world.owner).month_limit == 0, "/preferences/contact")


def add_blackout(login_as):
    _asks_world_as(login_as)
    return Change("/preferences", "/preferences/blackouts", blackout_data(),
                  lambda: db.session.scalar(select(Blackout).where(Blackout.note == "Busy season")) is not None,
                  "/preferences/blackouts")


def remove_blackout(login_as):
    w = _asks_world_as(login_as)
    action = f"/preferences/blackouts/{w.blackout.id}/delete"
    return Change("/preferences", action, {}, lambda: db.session.get(Blackout, w.blackout.id) is None, action)


def answer_ask(login_as):
    w = _asks_world_as(login_as)
    action = f"/asks/{w.ask.id}/answer"
    return Change("/asks", action, {"answer": "accept"}, lambda: fresh(w.ask).status is AskStatus.ACCEPTED, action)


def new_ask(login_as):
    w = _asks_world_as(login_as, "admin")
    path = f"/admin/asks/new?advocate_id={w.world.owner.id}"
    return Change(path, path, ask_data(),
                  lambda: db.session.scalar(select(Ask).where(Ask.prospect_company == "Banco Futuro")) is not None, None)


def withdraw_ask(login_as):
    w = _asks_world_as(login_as, "admin")
    path = f"/admin/asks/{w.ask.id}"
    return Change(path, path, {"action": "withdraw"}, lambda: fresh(w.ask).status is AskStatus.WITHDRAWN, None)


def complete_ask(login_as):
    w = _asks_world_as(login_as, "admin")
    path = f"/admin/asks/{w.accepted.id}"
    return Change(path, path, {"action": "complete", "outcome": "lost"},
                  lambda: fresh(w.accepted).status is AskStatus.COMPLETED, "complete")


def save_settings(login_as):
    _asks_world_as(login_as, "admin")
    return Change("/admin/settings", "/admin/settings", settings_data(month_limit="2", quarter_limit="4"),
                  lambda: (db.session.get(ProgramSettings, 1, populate_existing=True) or ProgramSettings()).month_limit == 2,
                  None)


def request_references(login_as):
    _asks_world_as(login_as, "staff")
    return Change("/staff/requests", "/staff/requests", request_data(),
                  lambda: db.session.scalar(select(ReferenceRequest).where(ReferenceRequest.prospect_company == "Banco Futuro")) is not None,
                  None)


def close_request(login_as):
    w = _asks_world_as(login_as, "admin")
    path = f"/admin/queue/{w.request_item.id}"
    return Change(path, path, {"decision": "approve"}, lambda: fresh(w.request).status is RequestStatus.FULFILLED, None)


CHANGES = [contact_preferences, add_blackout, remove_blackout, answer_ask, new_ask, withdraw_ask, complete_ask,
           save_settings, request_references, close_request]


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True, ids=["csrf"])
@pytest.mark.parametrize("make", CHANGES, ids=[f.__name__ for f in CHANGES])
class TestAsksCsrf:
    test_without_a_token_nothing_happens = intake_csrf.TestCsrf.test_without_a_token_nothing_happens
    test_the_htmx_header_carries_the_token = intake_csrf.TestCsrf.test_the_htmx_header_carries_the_token

    def test_the_form_on_the_page_carries_the_token(self, client, db, login_as, make):
        change = make(login_as)
        page = client.get(change.page)
        assert page.status_code == 200
        form = _form_of(page.text, change.form_action)
        assert any(name.endswith("csrf_token") and value for name, value in form.fields.items())

        response = client.post(form.action or change.action, data={**form.fields, **change.data})

        assert response.status_code == 302, response.text[:2000]
        assert change.happened()


def _form_of(html: str, action: str | None):
    """The form to post; "complete" is the ask page's outcome form (two forms post to the page)."""
    if action != "complete":
        return find_form(html, action)
    [form] = [f for f in parse(html).forms if f.method == "post" and not f.action and "outcome_amount" in f.fields]
    return form


# --- a seller's reference request, end to end -------------------------------------------------


def _fitting(advocate):
    """The owner fits the seller's criteria: Payments Gateway, financial services, Panama."""
    advocate.industry = named(Term, "Financial services")
    advocate.products = [named(Term, "Payments Gateway")]
    advocate.country = "PA"
    commit()


def _open_request(client, login_as, world):
    login_as(world.world.staff)
    response = client.post("/staff/requests", data=request_data(prospect_company="Banco Futuro"))
    assert redirect_target(response)[0] == "/staff/requests", response.text[:2000]
    request = db.session.scalar(select(ReferenceRequest).where(ReferenceRequest.prospect_company == "Banco Futuro"))
    return request, queue_item_of(request)


def _link(html: str, text: str) -> str:
    [href] = [e.attrs["href"] for e in parse(html).elements if e.tag == "a" and " ".join(e.text.split()) == text]
    return href


def test_a_sellers_request_is_answered_with_an_ask_and_fulfilled(client, world, login_as):
    owner = world.world.owner
    _fitting(owner)
    request, item = _open_request(client, login_as, world)

    login_as(world.world.admin)
    queue = client.get("/admin/queue")
    assert "A seller's deal" in text_of(queue.text)
    assert f"/admin/queue/{item.id}" in queue.text

    item_page = client.get(f"/admin/queue/{item.id}")
    assert "Banco Futuro" in text_of(item_page.text)
    search = _link(item_page.text, "Find available advocates who fit")
    parts = urlsplit(search)
    assert parts.path == "/admin/advocates"
    assert parse_qs(parts.query) == {
        "product": [str(named(Term, "Payments Gateway").id)],
        "activity": [str(activity().id)],
        "available": ["y"],
        "request_id": [str(request.id)],
        "industry": [str(named(Term, "Financial services").id)],
        "region": [str(named(Region, "Central America").id)],
    }

    directory = client.get(search)
    assert "Olivia Owner" in directory.text and "Oscar Other" not in directory.text
    ask_link = _link(directory.text, "Ask Olivia Owner")
    assert parse_qs(urlsplit(ask_link).query) == {"advocate_id": [str(owner.id)], "request_id": [str(request.id)]}

    form_page = client.get(ask_link)
    fields = find_form(form_page.text).fields
    assert fields["prospect_company"] == "Banco Futuro"
    assert fields["opportunity_id"] == "OPP-7"
    assert fields["due_on"] == days_from_today(20)
    assert fields["request_id"] == str(request.id)
    selected = [e.attrs.get("value") for e in parse(form_page.text).elements
                if e.tag == "option" and "selected" in e.attrs and e.form and e.form.action is None]
    assert str(activity().id) in selected

    response = submit(client, form_page.text, None, to=ask_link, activity_type=str(activity().id))
    assert response.status_code == 302, response.text[:3000]
    ask = db.session.scalar(select(Ask).where(Ask.reference_request_id == request.id))
    assert ask.advocate_id == owner.id
    assert "Olivia Owner" in client.get(f"/admin/queue/{item.id}").text

    login_as(world.world.staff)
    mine = text_of(client.get("/staff/requests").text)
    assert "An advocate (asked): waiting for answer" in mine
    assert "Olivia" not in mine  # named once they accept

    login_as(world.world.admin)
    done = client.post(f"/admin/queue/{item.id}", data={"decision": "approve"})
    assert redirect_target(done)[0] == "/admin/queue"
    assert fresh(request).status is RequestStatus.FULFILLED
    assert fresh(item).status is QueueStatus.APPROVED

    login_as(world.world.staff)
    assert "Fulfilled" in text_of(client.get("/staff/requests").text)


def test_a_request_cannot_be_marked_fulfilled_before_anyone_is_asked(client, world, login_as):
    request, item = _open_request(client, login_as, world)
    login_as(world.world.admin)
    before = snapshot()

    response = client.post(f"/admin/queue/{item.id}", data={"decision": "approve"})

    refused(response, None, "reason", "Answer the request with at least one ask before marking it fulfilled.")
    assert snapshot() == before


def test_cannot_fill_needs_a_reason_which_the_seller_sees(client, world, login_as):
    request, item = _open_request(client, login_as, world)
    login_as(world.world.admin)
    before = snapshot()

    blank = client.post(f"/admin/queue/{item.id}", data={"decision": "reject", "reason": "  "})

    refused(blank, None, "reason", "Give a reason")
    assert snapshot() == before

    reason = "No advocate in Panama uses the gateway yet."
    response = client.post(f"/admin/queue/{item.id}", data={"decision": "reject", "reason": reason})
    assert redirect_target(response)[0] == "/admin/queue"
    assert fresh(request).status is RequestStatus.UNFILLED

    login_as(world.world.staff)
    mine = text_of(client.get("/staff/requests").text)
    assert "Could not be filled" in mine
    assert f"Note from the team: {reason}" in mine


def test_the_seller_sees_the_advocate_once_they_accept(client, world, login_as):
    login_as(world.world.owner.user)
    client.post(f"/asks/{world.ask.id}/answer", data={"answer": "accept"})

    login_as(world.world.staff)
    mine = text_of(client.get("/staff/requests").text)
    assert f"Olivia Owner ({world.world.owner.account.name}): accepted" in mine


def test_the_available_now_directory_leaves_out_an_advocate_at_their_limit(client, world, login_as):
    owner, other = world.world.owner, world.world.other
    _fitting(owner)
    _fitting(other)
    make_ask(owner, ago=timedelta(0))
    commit()
    login_as(world.world.admin)

    page = client.get(f"/admin/advocates?available=y&activity={activity().id}"
                      f"&region={named(Region, 'Central America').id}")

    assert "Oscar Other" in page.text
    assert "Olivia Owner" not in page.text
