"""Availability: one rule in three forms that must agree. For random advocates, histories,
time zones and instants, the one-advocate verdict (``check``), the maintained state's window
and the set query (``available_now_condition``) give the same answer; the state equals a
rebuild from scratch after each kind of change; the periodic job moves it at the advocate's
local month boundary and publishes the flip; and two asks racing for the last slot on
PostgreSQL leave one ask and a state that counts one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.database import commit, db, utcnow
from portal.models import (
    ActivityType,
    Advocate,
    AdvocateAvailability,
    AdvocateStatus,
    Ask,
    AskStatus,
    Blackout,
    ConsentPurpose,
)
from portal.services import asks, availability, consent, directory, preferences
from portal.services.contact_rules import local_date
from tests.factories import AccountFactory, AdminFactory, AdvocateFactory
from tests.publishing import reference_db  # noqa: F401  (a fixture)

ZONES = [
    "UTC", "Pacific/Apia", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Niue", "Europe/Berlin",
    "America/New_York", "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu", "America/Panama",
]
# Instants near month and quarter ends, and near DST changes in the zones above.
BOUNDARIES = [
    datetime(2026, 3, 31, 12, tzinfo=UTC), datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2026, 6, 30, 23, tzinfo=UTC), datetime(2026, 9, 30, 10, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC), datetime(2026, 12, 31, 11, tzinfo=UTC),
]
STATUSES = [AdvocateStatus.APPROVED] * 6 + [AdvocateStatus.PENDING, AdvocateStatus.INVITED]
COUNTED = [AskStatus.SENT, AskStatus.ACCEPTED, AskStatus.COMPLETED, AskStatus.EXPIRED]

advocate_plans = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "status": st.sampled_from(STATUSES),
        "at_risk": st.sampled_from([False, False, False, True]),
        "month_limit": st.none() | st.integers(0, 3),
        "quarter_limit": st.none() | st.integers(0, 5),
        "pause_days": st.none() | st.integers(-5, 80),
        "blackouts": st.lists(st.tuples(st.integers(-10, 120), st.integers(0, 12)), max_size=2),
        # (hours before t0, counted, heavy)
        "asks": st.lists(st.tuples(st.integers(1, 24 * 200), st.sampled_from(COUNTED + [AskStatus.DECLINED]),
                                   st.booleans()), max_size=5),
        "opted_in": st.booleans(),
        "consents": st.booleans(),
    }
)
program_plans = st.fixed_dictionaries(
    {"month": st.integers(1, 3), "extra_quarter": st.integers(0, 4), "light": st.integers(0, 30), "heavy": st.integers(0, 90)}
)


def build(plan: dict, t0: datetime, call: ActivityType, case_study: ActivityType) -> Advocate:
    advocate = AdvocateFactory(
        status=plan["status"], time_zone=plan["zone"], account=AccountFactory(at_risk=plan["at_risk"]),
        month_limit=plan["month_limit"], quarter_limit=plan["quarter_limit"],
        activity_types=[call] if plan["opted_in"] else [],
    )
    local_today = local_date(t0, plan["zone"])
    if plan["pause_days"] is not None:
        advocate.paused_until = local_today + timedelta(days=plan["pause_days"])
    if plan["consents"]:
        consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
    for start, length in plan["blackouts"]:
        db.session.add(Blackout(advocate_id=advocate.id, starts_on=local_today + timedelta(days=start),
                                ends_on=local_today + timedelta(days=start + length)))
    for hours, status, heavy in plan["asks"]:
        sent = t0 - timedelta(hours=hours)
        db.session.add(Ask(advocate=advocate, activity_type=case_study if heavy else call, status=status,
                           prospect_company="Prospect", due_on=sent.date() + timedelta(days=7), created_at=sent))
    return advocate


def activity(key: str) -> ActivityType:
    return db.session.scalar(select(ActivityType).where(ActivityType.key == key))


def available_ids(ids: list[int], activity_ids: list[int], at: datetime) -> set[int]:
    query = select(Advocate.id).where(Advocate.id.in_(ids), availability.available_now_condition(activity_ids, at))
    return set(db.session.scalars(query))


# Each example builds a program in the database: no shrinking (minutes per failure), the
# failing example is printed whole instead.
@settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], print_blob=True)
@given(
    plans=st.lists(advocate_plans, min_size=4, max_size=10),
    program=program_plans,
    boundary=st.sampled_from(BOUNDARIES),
    offset_hours=st.integers(-72, 72),
    later_hours=st.lists(st.integers(0, 24 * 300), min_size=3, max_size=6),
)
def test_the_verdict_the_state_and_the_set_query_agree(db, taxonomies, plans, program, boundary, offset_hours, later_hours):
    call, case_study = activity("reference_call"), activity("case_study")
    db.session.execute(AdvocateAvailability.__table__.delete())
    availability.update_settings(AdminFactory(), program["month"], program["month"] + program["extra_quarter"],
                                 program["light"], program["heavy"])
    t0 = boundary + timedelta(hours=offset_hours)
    advocates = [build(plan, t0, call, case_study) for plan in plans]
    ids = [a.id for a in advocates]
    availability.sync()
    availability.refresh(ids, t0)  # the state as a refresh at t0 leaves it
    rows = {r.advocate_id: r for r in db.session.scalars(select(AdvocateAvailability).where(AdvocateAvailability.advocate_id.in_(ids)))}
    assert set(rows) == set(ids)
    for later in sorted(later_hours):
        t = t0 + timedelta(hours=later)
        for activity_ids in ([], [call.id]):
            listed = available_ids(ids, activity_ids, t)
            # The directory's counts of "Available now" and the usage lists alone, answered from
            # the state, are the counts of the general query (which also reads the advocates).
            for chosen in ({"available_now": True}, {"usage": "under"}, {"usage": "over"},
                           {"available_now": True, "usage": "over"}):
                alone = directory.Filters(activity_type_ids=activity_ids, **chosen)
                approved = directory.Filters(activity_type_ids=activity_ids, statuses=[AdvocateStatus.APPROVED], **chosen)
                assert directory.count(alone, now=t) == directory.count(approved, now=t), chosen
            for advocate in advocates:
                row = rows[advocate.id]
                verdict = availability.check(advocate, call, t)
                timed_ok = not (verdict.codes - {"opted_out", "no_consent"})
                by_state = row.askable_from is not None and row.askable_from <= t and (
                    row.askable_until is None or t < row.askable_until)
                where = (advocate.time_zone, t0, t, sorted(verdict.codes), row.askable_from, row.askable_until)
                if row.next_change_at is None or t < row.next_change_at:
                    assert by_state == timed_ok, where  # exact until the job's next move
                else:
                    assert timed_ok or not by_state, where  # a late job only ever under-promises
                # The set query is the state's answer, with the activity's opt-in and consent.
                consented = ConsentPurpose.REFERENCE_CALLS in availability.snapshot(advocate, t).consents
                opted = not activity_ids or call in advocate.activity_types
                assert (advocate.id in listed) == (by_state and consented and opted), where
                assert verdict.allowed == (timed_ok and consented and call in advocate.activity_types), where
        # The counts the advocate sees hold until the state's next change.
        for advocate in advocates:
            row = rows[advocate.id]
            if row.next_change_at is None or t < row.next_change_at:
                fresh = availability.computed([advocate.id], t, lock=False)[advocate.id]
                assert (fresh["month_used"], fresh["quarter_used"], fresh["over_used"], list(fresh["reasons"])) == (
                    row.month_used, row.quarter_used, row.over_used, list(row.reasons)), (advocate.time_zone, t0, t)


# --- after each kind of change the state equals a rebuild from scratch -------------------------


@pytest.fixture
def ready(taxonomies):
    advocate = AdvocateFactory(activity_types=[activity("reference_call")], time_zone="Europe/Berlin")
    consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
    return advocate


def context():
    return asks.AskContext(prospect_company="Prospect", due_on=utcnow().date() + timedelta(days=7))


def assert_current(advocate: Advocate) -> None:
    """The maintained state, as every reader sees it, equals a fresh computation."""
    availability.sync()
    assert availability.differences() == []
    row = db.session.get(AdvocateAvailability, advocate.id)
    assert row is not None


CHANGES = {
    "ask sent": lambda a: asks.create_ask(AdminFactory(), a.id, activity("reference_call"), context()),
    "ask declined": lambda a: asks.respond(a.user, asks.create_ask(AdminFactory(), a.id, activity("reference_call"), context()), False),
    "ask withdrawn": lambda a: asks.withdraw(AdminFactory(), asks.create_ask(AdminFactory(), a.id, activity("reference_call"), context())),
    "ask overridden": lambda a: (asks.create_ask(AdminFactory(), a.id, activity("reference_call"), context()),
                                 asks.create_ask(AdminFactory(), a.id, activity("reference_call"), context(),
                                                 override_reason="The CEO asked")),
    "ask expired": lambda a: (asks.create_ask(AdminFactory(), a.id, activity("reference_call"), context()),
                              asks.expire_overdue(utcnow().date() + timedelta(days=30))),
    "pause": lambda a: preferences.update(a.user, a, _prefs(a, paused_until=utcnow().date() + timedelta(days=20))),
    "limits lowered": lambda a: preferences.update(a.user, a, _prefs(a, month_limit=0)),
    "blackout added": lambda a: preferences.add_blackout(a.user, a, utcnow().date(), utcnow().date() + timedelta(days=3)),
    "blackout removed": lambda a: preferences.remove_blackout(
        a.user, a, preferences.add_blackout(a.user, a, utcnow().date(), utcnow().date() + timedelta(days=3)).id),
    "consent withdrawn": lambda a: consent.set_consents(a.user, a, set()),
    "status": lambda a: setattr(a, "status", AdvocateStatus.LAPSED),
    "account at risk": lambda a: setattr(a.account, "at_risk", True),
    "program settings": lambda a: availability.update_settings(AdminFactory(), 2, 4, 7, 30),
}


def _prefs(advocate: Advocate, **changes):
    prefs = preferences.preferences_of(advocate)
    for name, value in changes.items():
        setattr(prefs, name, value)
    return prefs


@pytest.mark.parametrize("change", list(CHANGES))
def test_after_each_kind_of_change_the_state_equals_a_rebuild(db, ready, change):
    availability.sync()
    before = db.session.get(AdvocateAvailability, ready.id)
    assert before is not None and before.askable
    CHANGES[change](ready)
    db.session.flush()
    assert_current(ready)
    after = db.session.get(AdvocateAvailability, ready.id)
    if change not in ("ask declined", "ask withdrawn", "consent withdrawn", "blackout removed"):
        assert not after.askable or change == "program settings", change


def test_the_usage_the_advocate_sees_comes_from_the_state(db, ready):
    asks.create_ask(AdminFactory(), ready.id, activity("reference_call"), context())
    usage = availability.usage(ready)
    assert (usage.month_used, usage.month_limit, usage.quarter_used, usage.quarter_limit) == (1, 1, 1, 3)
    assert usage.next_allowed > usage.today and not usage.available_now
    assert set(usage.reasons) >= {"month_limit", "cooldown"}


def test_the_periodic_job_flips_the_row_at_the_local_month_boundary(db, ready, reference_db, monkeypatch):
    from portal import jobs, reference
    from portal.services import publishing

    clock = {"now": datetime(2026, 3, 10, 9, tzinfo=UTC)}
    for module in (availability, publishing):
        monkeypatch.setattr(module, "utcnow", lambda: clock["now"])
    call = activity("reference_call")
    availability.update_settings(AdminFactory(), 1, 3, 0, 0)  # no cool-down: only the month limit
    db.session.add(Ask(advocate=ready, activity_type=call, status=AskStatus.SENT, prospect_company="P",
                       due_on=date(2026, 3, 20), created_at=clock["now"]))
    commit()  # the state is refreshed and published in this transaction and after it
    row = db.session.get(AdvocateAvailability, ready.id)
    # Berlin's April starts at 22:00 UTC on 31 March (CEST, UTC+2).
    april = datetime(2026, 3, 31, 22, tzinfo=UTC)
    assert row.askable_from == april and row.next_change_at == april and not row.askable

    def published():
        with reference.engine().connect() as conn:
            return conn.execute(select(reference.advocates).where(reference.advocates.c.advocate_id == ready.id)).one()

    assert (published().available_now, published().unavailable_reason, published().next_available_at) == (
        False, "month_limit", april)

    # Just before local midnight the job finds nothing to move; just after, it flips the row,
    # which publishes itself.
    clock["now"] = april - timedelta(minutes=1)
    assert availability.refresh_due() == 0
    clock["now"] = april + timedelta(minutes=1)
    assert availability.refresh_due() == 1
    row = db.session.get(AdvocateAvailability, ready.id)
    assert row.askable and row.month_used == 0 and row.quarter_used == 0  # April opens Q2 too
    commit()
    jobs.redeliver_due_messages.call_local()
    assert (published().available_now, published().unavailable_reason, published().next_available_at) == (True, None, None)


def test_a_rebuild_finds_and_repairs_a_damaged_state(db, ready):
    availability.sync()
    db.session.get(AdvocateAvailability, ready.id).askable_from = None
    db.session.flush()
    found = availability.differences()
    assert [d.advocate_id for d in found] == [ready.id] and "askable_from" in found[0].fields
    assert availability.rebuild() and availability.differences() == []


def test_the_command_checks_and_repairs_like_the_page(app, db, ready):
    availability.sync()
    db.session.get(AdvocateAvailability, ready.id).month_used = 5
    commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["availability", "rebuild", "--dry-run"])
    assert dry.exit_code == 0 and f"advocate {ready.id}: update (month_used)" in dry.output
    assert "1 differences; the rebuild would change 1 rows." in dry.output
    assert db.session.get(AdvocateAvailability, ready.id, populate_existing=True).month_used == 5
    fixed = runner.invoke(args=["availability", "rebuild"])
    assert fixed.exit_code == 0 and "the rebuild changed 1 rows" in fixed.output
    assert runner.invoke(args=["availability", "rebuild", "--dry-run"]).output.strip() == "No differences."
