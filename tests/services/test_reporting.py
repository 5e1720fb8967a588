"""The dashboard's figures against values computed by hand on a fixed program; coverage
targets and their gaps (regions nest, only available advocates count); unmet demand
(normalised criteria, the most frequent combinations, repeats counted once)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.database import utcnow
from portal.models import (
    AdvocateStatus,
    Ask,
    AskOutcome,
    AskStatus,
    Blackout,
    CoverageTarget,
    PointsEntry,
    PointsSource,
    ProgramSettings,
    Region,
    Term,
    UnmetDemand,
    User,
)
from portal.services import availability, coverage, demand, directory, points, reporting, taxonomy
from portal.services.errors import DomainError
from tests.conftest import ON_POSTGRES
from tests.factories import AccountFactory, AdminFactory, AdvocateFactory, StaffFactory
from tests.web.asks import activity, askable, make_ask, make_request
from tests.web.intake import named

Q = reporting.Quarter(2025, 2)  # April to June 2025: a closed quarter, fixed whatever today is
S = Q.start


def at(days: float):
    return S + timedelta(days=days)


def test_quarters():
    assert (Q.start.isoformat(), Q.end.isoformat()) == ("2025-04-01T00:00:00+00:00", "2025-07-01T00:00:00+00:00")
    assert reporting.Quarter.parse("2025-Q2") == Q and Q.key == "2025-Q2" and Q.label == "Q2 2025"
    assert reporting.Quarter.parse("2025-Q5") is None and reporting.Quarter.parse("drop table") is None
    assert reporting.Quarter(2025, 1).previous() == reporting.Quarter(2024, 4)
    recent = reporting.Quarter.recent(3, now=at(10))
    assert [q.key for q in recent] == ["2025-Q2", "2025-Q1", "2024-Q4"]


@pytest.fixture
def program(db, taxonomies):
    """Four nominations in the quarter (two approved, one waiting, one unverified), one
    before it, one job-change record; asks in every state; won deals; points."""
    admin = AdminFactory()
    a1 = AdvocateFactory(created_at=at(1), submitted_at=at(1.5))
    a2 = AdvocateFactory(created_at=at(2), submitted_at=at(2.5))
    AdvocateFactory(status=AdvocateStatus.PENDING, created_at=at(3), submitted_at=at(3.5))
    AdvocateFactory(status=AdvocateStatus.UNVERIFIED, created_at=at(4))
    a5 = AdvocateFactory(created_at=S - timedelta(days=10), submitted_at=S - timedelta(days=9))
    AdvocateFactory(created_at=at(6), submitted_at=at(6), previous_id=a5.id)  # a job change, not a nomination

    def ask(advocate, status, days, **values):
        return make_ask(advocate, status=status, ago=utcnow() - at(days), **values)

    ask(a1, AskStatus.ACCEPTED, 5)
    ask(a2, AskStatus.DECLINED, 6)
    ask(a5, AskStatus.COMPLETED, 7, outcome=AskOutcome.WON, outcome_amount=Decimal("100000"),
        opportunity_id="OPP-1", completed_at=at(20))
    ask(a5, AskStatus.COMPLETED, 8, outcome=AskOutcome.WON, outcome_amount=Decimal("50000"),
        opportunity_id="OPP-1", completed_at=at(21))  # the same deal: counted once, at 100,000
    ask(a5, AskStatus.COMPLETED, 9, outcome=AskOutcome.WON, outcome_amount=Decimal("30000.50"), completed_at=at(22))
    ask(a2, AskStatus.COMPLETED, 10, outcome=AskOutcome.LOST, outcome_amount=Decimal("999"), completed_at=at(23))
    ask(a1, AskStatus.SENT, 11)
    ask(a1, AskStatus.COMPLETED, -30, outcome=AskOutcome.WON, outcome_amount=Decimal("7"), completed_at=at(-29))  # Q1
    ask(a2, AskStatus.WITHDRAWN, 200)  # Q4: not this quarter

    def entry(advocate, pts, source, source_id, days):
        e = points.award(advocate, source, source_id, points=pts) if pts > 0 else points.spend(advocate, -pts, source, source_id)
        e.created_at = at(days)

    entry(a1, 100, PointsSource.NOMINATION_APPROVED, a1.id, 2)
    entry(a2, 100, PointsSource.NOMINATION_APPROVED, a2.id, 3)
    entry(a5, 40, PointsSource.ASK_COMPLETED, 1, -20)  # the quarter before: only in "outstanding"
    entry(a1, -60, PointsSource.REWARD_CLAIM, 7, 10)
    entry(a1, 20, PointsSource.REWARD_REFUND, 7, 11)
    adjusted = points.adjust(admin, a2, -10, "Awarded twice by mistake")
    adjusted.created_at = at(12)
    entry(a2, 30, PointsSource.ASK_ACCEPTED, 99, 200)  # after the quarter
    db.session.flush()
    return {"a1": a1, "a2": a2, "a5": a5}


def test_nomination_funnel(program):
    # a1 accepted an ask and a2 completed one; a3 waits for approval, a4 never verified.
    steps = reporting.figures(Q)["funnel"]["steps"]
    assert [(s["label"], s["value"], s["percent"]) for s in steps] == [
        ("Nominated", 4, 100), ("Verified", 3, 75), ("Approved", 2, 50), ("Took part in an ask", 2, 50)
    ]


def test_active_advocates(program):
    figure = reporting.figures(Q)["activity"]
    # Approved now: a1, a2, a5 and the job-change record; a1 accepted, a2 and a5 completed
    # asks sent in Q2 (a2's was lost: taking part is what counts).
    assert (figure["approved"], figure["active"], figure["active_percent"]) == (4, 3, 75)
    assert (figure["over_used"], figure["under_used"]) == (0, 0)  # nobody consented: nobody is available


def test_asks_by_state_and_utilization(program):
    figure = reporting.figures(Q)["asks"]
    states = {s["key"]: s["value"] for s in figure["states"]}
    assert states == {"sent": 1, "accepted": 1, "declined": 1, "withdrawn": 0, "completed": 4, "expired": 0}
    assert figure["sent"] == 7
    # Four approved advocates with the program's 3 a quarter = 12; counting asks in Q2:
    # a1 two (accepted, sent), a5 three (completed), a2 one (completed; the decline does not count).
    assert (figure["capacity"], figure["used"], figure["utilization"]) == (12, 6, 50)
    assert (figure["at_limit"], figure["some"], figure["unasked"]) == (1, 2, 1)


def test_an_advocates_own_lower_limit_is_their_capacity(program):
    program["a5"].quarter_limit = 5  # above the program's 3: the program's applies
    program["a1"].quarter_limit = 2  # a1 is now at their limit
    figure = reporting.figures(Q)["asks"]
    assert (figure["capacity"], figure["at_limit"]) == (11, 2)


def test_revenue_influenced(program):
    figure = reporting.figures(Q)["revenue"]
    assert figure == {"won_deals": 2, "amount": Decimal("130000.50"), "completed": 4}


def test_points_issued_spent_outstanding(program):
    figure = reporting.figures(Q)["points"]
    # Issued in Q2: 100 + 100 - 10 (a manual deduction); spent: 60 claimed less 20 refunded.
    # Outstanding points are valued at the program's 0.05 a point (the default).
    assert figure == {"issued": 190, "spent": 40, "outstanding": 190 - 40 + 40, "value": Decimal("9.50")}
    total = reporting.figures(reporting.Quarter.of(utcnow()))["points"]["outstanding"]
    assert total == reporting.db.session.scalar(select(func.sum(PointsEntry.points)))  # every balance today


def test_over_and_under_used_now(db, taxonomies):
    now = utcnow()
    under = askable(AdvocateFactory())
    over = askable(AdvocateFactory())
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    make_ask(over, ago=now - (month_start + (now - month_start) / 2))
    make_ask(over, ago=now - (month_start - timedelta(days=3)))
    figure = reporting.figures(reporting.Quarter.of(now), now)["activity"]
    assert (figure["over_used"], figure["under_used"]) == (1, 1)
    assert under.id in {a.id for a in db.session.scalars(directory.search(directory.Filters(usage="under")))}



# --- the rewritten figures against their definitions, on hand-built programs -----------------
# The funnel and the activity figure count in one grouped pass what used to be a correlated
# subquery per advocate; these pin their values, and (for over- and under-use) that they
# count exactly the advocates the directory's own filters find.

NOW = datetime(2025, 5, 20, 12, tzinfo=UTC)  # month from May 1, last month April, quarter Q2


def ask_at(advocate, when, status=AskStatus.SENT, key="reference_call"):
    ask = Ask(advocate=advocate, activity_type=activity(key), status=status, prospect_company="Prospect Co",
              due_on=when.date() + timedelta(days=14), created_at=when)
    reporting.db.session.add(ask)
    return ask


def day(month, dom):
    return datetime(2025, month, dom, 12, tzinfo=UTC)


def found(usage):
    filters = directory.Filters(usage=usage)
    ids = {a.id for a in reporting.db.session.scalars(directory.search(filters, NOW))}
    assert directory.paginate(filters, per_page=100, now=NOW).total == len(ids)  # the page's total counts what it lists
    return ids


def test_over_and_under_used_count_what_the_directory_finds(db, taxonomies):
    # The program's rules: 1 a month, 3 a quarter; light cool-down 14 days, heavy 120 (longer
    # than the 90 days of "not asked recently", so the cool-down alone can rule one out).
    db.session.add(ProgramSettings(id=1, month_limit=1, quarter_limit=3, light_cooldown_days=14, heavy_cooldown_days=120))
    by_month = askable(AdvocateFactory())  # at the monthly limit last month and this month
    ask_at(by_month, day(5, 10))
    ask_at(by_month, day(4, 15))
    by_quarter = askable(AdvocateFactory())  # at the quarterly limit last quarter and this one, not this month
    for when in (day(1, 10), day(2, 10), day(3, 10), day(4, 2), day(4, 10), day(4, 25)):
        ask_at(by_quarter, when)
    declined = askable(AdvocateFactory())  # this month's ask was declined: it does not count
    ask_at(declined, day(5, 10), AskStatus.DECLINED)
    ask_at(declined, day(4, 15))
    no_asks_allowed = askable(AdvocateFactory(month_limit=0))  # at a limit of 0 without any ask
    twice_this_month = askable(AdvocateFactory())  # over the limit this month, but not last month
    ask_at(twice_this_month, day(5, 2))
    ask_at(twice_this_month, day(5, 12), AskStatus.COMPLETED)
    pending = AdvocateFactory(status=AdvocateStatus.PENDING)  # not approved: never over- or under-used
    ask_at(pending, day(5, 10))
    ask_at(pending, day(4, 15))

    idle = askable(AdvocateFactory())  # last asked 100 days ago (expired, still counting)
    ask_at(idle, NOW - timedelta(days=100), AskStatus.EXPIRED)
    never_asked = askable(AdvocateFactory())
    askable(AdvocateFactory(status=AdvocateStatus.PENDING))
    AdvocateFactory()  # never consented to reference calls
    askable(AdvocateFactory(paused_until=NOW.date() + timedelta(days=3)))
    away = askable(AdvocateFactory())
    db.session.add(Blackout(advocate_id=away.id, starts_on=NOW.date() - timedelta(days=1), ends_on=NOW.date()))
    askable(AdvocateFactory(account=AccountFactory(at_risk=True)))
    recent = askable(AdvocateFactory())  # asked 80 days ago: not "not asked recently"
    ask_at(recent, NOW - timedelta(days=80))
    cooling = askable(AdvocateFactory())  # a case study 100 days ago: still in its 120-day cool-down
    ask_at(cooling, NOW - timedelta(days=100), key="case_study")
    withdrawn = askable(AdvocateFactory())  # asked 10 days ago, but the ask was withdrawn
    ask_at(withdrawn, NOW - timedelta(days=10), AskStatus.WITHDRAWN)
    db.session.flush()
    availability.rebuild(NOW)  # the state as the periodic job leaves it at NOW

    figure = reporting.figures(reporting.Quarter.of(NOW), NOW)["activity"]
    assert found("over") == {by_month.id, by_quarter.id, no_asks_allowed.id}
    assert found("under") == {idle.id, never_asked.id, withdrawn.id}
    assert (figure["over_used"], figure["under_used"]) == (3, 3)


def test_active_advocates_count_each_advocate_once(db, taxonomies):
    quarter = reporting.Quarter(2025, 2)
    twice = AdvocateFactory()  # accepted two asks and completed a third in the quarter
    ask_at(twice, day(4, 3), AskStatus.ACCEPTED)
    ask_at(twice, day(5, 3), AskStatus.ACCEPTED)
    ask_at(twice, day(6, 3), AskStatus.COMPLETED)
    declined = AdvocateFactory()
    ask_at(declined, day(4, 3), AskStatus.DECLINED)
    earlier = AdvocateFactory()  # took part in an ask sent in Q1
    ask_at(earlier, day(3, 30), AskStatus.COMPLETED)
    lapsed = AdvocateFactory(status=AdvocateStatus.LAPSED)  # not approved now
    ask_at(lapsed, day(4, 3), AskStatus.ACCEPTED)
    AdvocateFactory()
    db.session.flush()
    figure = reporting.figures(quarter, NOW)["activity"]
    assert (figure["approved"], figure["active"], figure["active_percent"]) == (4, 1, 25)


def test_funnel_counts_each_nominee_once_whatever_their_asks(db, taxonomies):
    quarter = reporting.Quarter(2025, 2)
    busy = AdvocateFactory(created_at=day(4, 2), submitted_at=day(4, 2))  # two asks taken, one declined
    ask_at(busy, day(4, 10), AskStatus.ACCEPTED)
    ask_at(busy, day(5, 10), AskStatus.COMPLETED)
    ask_at(busy, day(5, 11), AskStatus.DECLINED)
    left = AdvocateFactory(status=AdvocateStatus.LAPSED, created_at=day(4, 3), submitted_at=day(4, 3))
    ask_at(left, day(8, 1), AskStatus.COMPLETED)  # after the quarter: taking part at any time counts
    waiting = AdvocateFactory(status=AdvocateStatus.PENDING, created_at=day(4, 4), submitted_at=day(4, 4))
    ask_at(waiting, day(4, 20), AskStatus.ACCEPTED)  # not approved: not active
    unasked = AdvocateFactory(created_at=day(5, 5), submitted_at=day(5, 5))
    ask_at(unasked, day(5, 20), AskStatus.SENT)
    ask_at(unasked, day(5, 21), AskStatus.EXPIRED)
    AdvocateFactory(status=AdvocateStatus.UNVERIFIED, created_at=day(6, 1))
    before = AdvocateFactory(created_at=day(3, 31), submitted_at=day(3, 31))
    ask_at(before, day(4, 10), AskStatus.ACCEPTED)
    moved = AdvocateFactory(created_at=day(5, 1), submitted_at=day(5, 1), previous_id=before.id)  # a job change
    ask_at(moved, day(5, 10), AskStatus.ACCEPTED)
    db.session.flush()
    steps = reporting.figures(quarter, NOW)["funnel"]["steps"]
    assert [(s["label"], s["value"], s["percent"]) for s in steps] == [
        ("Nominated", 5, 100), ("Verified", 4, 80), ("Approved", 3, 60), ("Took part in an ask", 2, 40)
    ]



def test_recent_figures_are_reused_for_their_max_age_then_recomputed(db, taxonomies):
    recent = reporting.RecentFigures(size=2)
    quarter = reporting.Quarter.of(NOW)
    first = recent.get(quarter, 60, NOW)
    assert first.as_of == NOW and first.figures == reporting.figures(quarter, NOW)
    AdvocateFactory(created_at=NOW - timedelta(days=1))  # a new nomination
    assert recent.get(quarter, 60, NOW + timedelta(seconds=59)) is first  # within a minute: as it was
    later = recent.get(quarter, 60, NOW + timedelta(seconds=60))
    assert later.as_of == NOW + timedelta(seconds=60)
    assert later.figures["funnel"]["steps"][0]["value"] == first.figures["funnel"]["steps"][0]["value"] + 1
    assert recent.get(quarter, 60, NOW - timedelta(seconds=1)) is not later  # the clock went back: recomputed
    assert recent.get(quarter, 0, NOW).figures == reporting.figures(quarter, NOW)  # 0: never reused


def test_recent_figures_keep_each_quarter_apart_and_only_a_few(db, taxonomies):
    recent = reporting.RecentFigures(size=2)
    q2, q1, q4 = reporting.Quarter(2025, 2), reporting.Quarter(2025, 1), reporting.Quarter(2024, 4)
    kept = recent.get(q2, 60, NOW)
    assert recent.get(q1, 60, NOW).quarter == q1 and recent.get(q2, 60, NOW) is kept
    recent.get(q4, 60, NOW)  # a third quarter: the one used longest ago (Q1) makes room
    assert recent.get(q2, 60, NOW) is kept
    assert recent.get(q1, 60, NOW + timedelta(seconds=1)).as_of == NOW + timedelta(seconds=1)


# --- coverage -------------------------------------------------------------------------------


def test_coverage_counts_available_advocates_who_match_with_regions_nesting(db, taxonomies):
    admin = AdminFactory()
    finance, analytics = named(Term, "Financial services"), named(Term, "Analytics Cloud")
    central, latam = named(Region, "Central America"), named(Region, "Latin America")
    fits = [askable(AdvocateFactory(country=c, industry=finance, products=[analytics])) for c in ("PA", "CR")]
    askable(AdvocateFactory(country="BR", industry=finance, products=[analytics]))  # Latin America, not Central
    AdvocateFactory(country="PA", industry=finance, products=[analytics])  # not consenting: not available
    askable(AdvocateFactory(country="PA", industry=finance, products=[analytics], status=AdvocateStatus.PENDING))
    paused = askable(AdvocateFactory(country="GT", industry=finance, products=[analytics]))
    paused.paused_until = utcnow().date() + timedelta(days=9)

    central_target = coverage.set_target(admin, finance.id, central.id, analytics.id, 5)
    coverage.set_target(admin, finance.id, latam.id, None, 2)
    coverage.set_target(admin, None, None, analytics.id, 1)
    rows = {r["id"]: r for r in coverage.matrix()}

    central_row = rows[central_target.id]
    assert (central_row["target"], central_row["actual"], central_row["gap"]) == (5, 2, 3)
    assert central_row["label"] == "Financial services · Central America · Analytics Cloud"
    assert central_row["search_args"] == {"available": "y", "industry": [finance.id], "region": [central.id], "product": [analytics.id]}
    assert [(r["actual"], r["gap"]) for r in coverage.matrix()] == [(2, 3), (3, 0), (3, 0)]  # biggest gap first
    # The directory search the gap links to finds exactly the advocates counted.
    found = db.session.scalars(directory.search(directory.Filters(
        industry_ids=[finance.id], region_ids=[central.id], product_ids=[analytics.id], available_now=True)))
    assert {a.id for a in found} == {a.id for a in fits}



def test_coverage_counts_for_every_target_what_the_directory_search_finds(db, taxonomies):
    """Targets of every shape, counted in one pass, against the directory's own search for
    advocates available now with the same criteria (which is what a gap links to)."""
    admin = AdminFactory()
    finance, health = named(Term, "Financial services"), named(Term, "Healthcare")
    analytics, payments = named(Term, "Analytics Cloud"), named(Term, "Payments Gateway")
    central, latam, europe, apac = (named(Region, n) for n in ("Central America", "Latin America", "Europe", "APAC"))
    askable(AdvocateFactory(country="PA", industry=finance, products=[analytics, payments]))
    askable(AdvocateFactory(country="BR", industry=finance, products=[analytics]))
    askable(AdvocateFactory(country="DE", industry=health, products=[payments]))
    askable(AdvocateFactory(country="ES", industry=health, products=[analytics, payments]))
    askable(AdvocateFactory(country="CR", industry=None, products=[]))
    at_limit = askable(AdvocateFactory(country="PA", industry=finance, products=[analytics]))
    make_ask(at_limit, ago=timedelta(0))  # this month's one ask: not available
    cooling = askable(AdvocateFactory(country="DE", industry=health, products=[payments]))
    make_ask(cooling, ago=timedelta(days=40), key="case_study")  # a heavy ask in its 60-day cool-down
    declined = askable(AdvocateFactory(country="DE", industry=health, products=[payments]))
    make_ask(declined, status=AskStatus.DECLINED, ago=timedelta(hours=1))  # does not count: available
    AdvocateFactory(country="PA", industry=finance, products=[analytics])  # no consent
    askable(AdvocateFactory(country="ES", industry=health, products=[payments], account=AccountFactory(at_risk=True)))
    askable(AdvocateFactory(country="PA", industry=finance, products=[payments], status=AdvocateStatus.PENDING))
    targets = [
        coverage.set_target(admin, finance.id, None, None, 2),
        coverage.set_target(admin, None, latam.id, None, 2),
        coverage.set_target(admin, None, None, analytics.id, 2),
        coverage.set_target(admin, finance.id, central.id, analytics.id, 2),
        coverage.set_target(admin, health.id, europe.id, payments.id, 2),
        coverage.set_target(admin, None, apac.id, payments.id, 2),  # nobody there
        coverage.set_target(admin, None, europe.id, analytics.id, 2),
    ]
    rows = {r["id"]: r["actual"] for r in coverage.matrix()}

    def searched(t):
        filters = directory.Filters(available_now=True, industry_ids=[t.industry_id] if t.industry_id else [],
                                    region_ids=[t.region_id] if t.region_id else [],
                                    product_ids=[t.product_id] if t.product_id else [])
        return len(reporting.db.session.scalars(directory.search(filters)).all())

    assert {t.id: rows[t.id] for t in targets} == {t.id: searched(t) for t in targets}
    assert [rows[t.id] for t in targets] == [2, 3, 3, 1, 3, 0, 1]


def test_setting_a_target_again_changes_it_and_bad_values_are_refused(db, taxonomies):
    admin = AdminFactory()
    healthcare, apac = named(Term, "Healthcare"), named(Region, "APAC")
    first = coverage.set_target(admin, healthcare.id, apac.id, None, 3)
    again = coverage.set_target(admin, healthcare.id, apac.id, None, 8)
    assert first.id == again.id and again.target == 8
    assert db.session.scalar(select(func.count(CoverageTarget.id))) == 1
    for args, field in [
        ((None, None, None, 2), "industry"),
        ((healthcare.id, None, None, 0), "target"),
        ((healthcare.id, None, None, 10001), "target"),
        ((named(Term, "Analytics Cloud").id, None, None, 2), "industry"),  # a product is not an industry
        ((None, 987654, None, 2), "region"),
    ]:
        with pytest.raises(DomainError) as refused:
            coverage.set_target(admin, *args)
        assert refused.value.field == field


def test_a_recruiting_call_shows_until_the_gap_closes(db, taxonomies):
    admin = AdminFactory()
    healthcare = named(Term, "Healthcare")
    target = coverage.set_target(admin, healthcare.id, None, None, 1)
    assert coverage.open_calls() == []
    coverage.open_call(admin, target, "Hospitals using Identity Suite")
    [call] = coverage.open_calls()
    assert (call["label"], call["gap"], call["call_message"]) == ("Healthcare · any region · any product", 1, "Hospitals using Identity Suite")
    askable(AdvocateFactory(industry=healthcare))
    assert coverage.open_calls() == []  # the gap closed: the call is gone without anyone withdrawing it


# --- unmet demand ---------------------------------------------------------------------------


def _search(**values):
    return directory.Filters(available_now=True, **values)


def test_unmet_searches_count_together_whatever_the_order(db, taxonomies):
    staff, other = StaffFactory(), StaffFactory()
    a, b = named(Term, "Analytics Cloud"), named(Term, "Payments Gateway")
    finance, central = named(Term, "Financial services"), named(Region, "Central America")
    assert demand.record_search(staff, _search(product_ids=[a.id, b.id], industry_ids=[finance.id], region_ids=[central.id]), 0)
    assert demand.record_search(other, _search(product_ids=[b.id, a.id], industry_ids=[finance.id], region_ids=[central.id]), 0)
    # The same person repeating the search within the hour (reload, next page) counts once.
    assert demand.record_search(staff, _search(product_ids=[b.id, a.id], industry_ids=[finance.id], region_ids=[central.id]), 0) is None
    # Not recorded: something was found, "available now" was not asked for, or no criteria at all.
    assert demand.record_search(staff, _search(product_ids=[a.id]), 3) is None
    assert demand.record_search(staff, directory.Filters(product_ids=[a.id]), 0) is None
    assert demand.record_search(staff, _search(), 0) is None
    demand.record_search(staff, _search(industry_ids=[named(Term, "Healthcare").id]), 0)

    rows = demand.most_frequent(reporting.Quarter.of(utcnow()))
    assert [(r["label"], r["times"], r["searches"]) for r in rows] == [
        ("products Analytics Cloud+Payments Gateway, Financial services, Central America", 2, 2),
        ("Healthcare", 1, 1),
    ]
    assert rows[0]["search_args"]["product"] == sorted([a.id, b.id])
    assert reporting.figures(reporting.Quarter.of(utcnow()))["demand"]["total"] == 3
    assert demand.most_frequent(reporting.Quarter.of(utcnow()).previous()) == []


def test_a_request_closed_unfilled_is_unmet_demand(db, taxonomies):
    from portal.models import QueueItem, QueueKind
    from portal.services import approvals

    staff, admin = StaffFactory(), AdminFactory()
    identity, healthcare, apac = named(Term, "Identity Suite"), named(Term, "Healthcare"), named(Region, "APAC")
    request = make_request(staff, product_ids=[identity.id], industry_id=healthcare.id, region_id=apac.id)
    fulfilled = make_request(staff, product_ids=[identity.id])
    make_ask(askable(AdvocateFactory()), reference_request_id=fulfilled.id)

    def item(r):
        return db.session.scalar(select(QueueItem).where(QueueItem.kind == QueueKind.REFERENCE_REQUEST, QueueItem.subject_id == r.id))

    approvals.decide(admin, item(request), False, "Nobody in APAC yet")
    approvals.decide(admin, item(fulfilled), True)
    [row] = db.session.scalars(select(UnmetDemand)).all()
    assert (row.reference_request_id, row.source.value, row.actor_id) == (request.id, "request", staff.id)
    [top] = demand.most_frequent(reporting.Quarter.of(utcnow()))
    assert (top["label"], top["requests"]) == ("product Identity Suite, Healthcare, APAC, for Reference call", 1)
    assert top["search_args"]["activity"] == [activity().id]


@pytest.mark.skipif(not ON_POSTGRES, reason="races need PostgreSQL's concurrent transactions")
def test_admins_setting_the_same_target_at_once_make_one_target(app, committed_db):
    """Six admins set a target for the same combination at the same moment: one target,
    holding one of their numbers (the unique combination, not a check in Python)."""
    from portal.database import db

    taxonomy.load_defaults()
    healthcare = db.session.scalar(select(Term.id).where(Term.name == "Healthcare"))
    admin_ids = [AdminFactory().id for _ in range(6)]
    db.session.commit()
    barrier = threading.Barrier(6)
    errors = []

    def set_once(n):
        with app.app_context():
            try:
                actor = db.session.get(User, admin_ids[n])
                barrier.wait()
                coverage.set_target(actor, healthcare, None, None, n + 1)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 (any failure is the test's finding)
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=set_once, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    targets = db.session.scalars(select(CoverageTarget)).all()
    assert len(targets) == 1 and targets[0].target in range(1, 7)


# --- the programs: campaigns, boards, rewards ---------------------------------------------


def test_campaign_progress_counts_verified_reviews_of_campaigns_running_in_the_quarter(db):
    from portal.models import CampaignParticipation, ParticipationStatus, ProofStatus, ReviewProof
    from tests.factories import CampaignFactory

    running = CampaignFactory(name="G2 spring", starts_on=S.date() - timedelta(days=5), ends_on=S.date() + timedelta(days=30), target_count=4)
    CampaignFactory(name="Before", starts_on=S.date() - timedelta(days=90), ends_on=S.date() - timedelta(days=1))
    CampaignFactory(name="After", starts_on=Q.end.date(), ends_on=Q.end.date() + timedelta(days=9))
    states = [
        (ParticipationStatus.VERIFIED, ProofStatus.VERIFIED),
        (ParticipationStatus.VERIFIED, ProofStatus.VERIFIED),
        (ParticipationStatus.SUBMITTED, ProofStatus.SUBMITTED),
        (ParticipationStatus.JOINED, None),
        (ParticipationStatus.INVITED, None),
    ]
    for status, proof in states:
        participation = CampaignParticipation(campaign=running, advocate=AdvocateFactory(), status=status)
        db.session.add(participation)
        if proof is not None:
            db.session.add(ReviewProof(participation=participation, status=proof, review_url="https://g2.example/r"))
    db.session.flush()
    [campaign] = reporting.figures(Q, now=Q.end)["campaigns"]["campaigns"]
    assert (campaign["name"], campaign["verified"], campaign["target"], campaign["percent"], campaign["joined"]) == (
        "G2 spring", 2, 4, 50, 4
    )
    assert campaign["ended"] is True


def test_board_seat_fill_and_attendance(db):
    from portal.models import BoardMeeting, BoardSeat, MeetingResponse, SeatStatus
    from tests.factories import BoardFactory

    full, empty = BoardFactory(name="A council", seat_count=2), BoardFactory(name="B board", seat_count=5)
    seats = {}
    for status in (SeatStatus.MEMBER, SeatStatus.OFFERED, SeatStatus.WAITLISTED, SeatStatus.WAITLISTED, SeatStatus.APPLIED):
        seat = BoardSeat(board=full, advocate=AdvocateFactory(), status=status, motivation="Help shape it")
        db.session.add(seat)
        seats.setdefault(status, seat)
    meeting = BoardMeeting(board=full, title="Q2 council", starts_at=at(20))
    later = BoardMeeting(board=full, title="Next quarter", starts_at=Q.end + timedelta(days=3))
    db.session.add_all([meeting, later])
    db.session.flush()
    db.session.add_all([
        MeetingResponse(meeting=meeting, seat_id=seats[SeatStatus.MEMBER].id, attended=True),
        MeetingResponse(meeting=meeting, seat_id=seats[SeatStatus.OFFERED].id, attended=False),
        MeetingResponse(meeting=later, seat_id=seats[SeatStatus.MEMBER].id),
    ])
    db.session.flush()
    figure = reporting.figures(Q, now=Q.end)["boards"]
    assert [(b["name"], b["filled"], b["seats"], b["waitlist"], b["percent"]) for b in figure["boards"]] == [
        ("A council", 2, 2, 2, 100),
        ("B board", 0, 5, 0, 0),
    ]
    assert (figure["filled"], figure["seats"], figure["invited"], figure["attended"], figure["attendance_percent"]) == (2, 7, 2, 1, 50)
    assert empty.id


def test_rewards_redeemed_in_the_quarter(db):
    from portal.models import ClaimStatus, RewardClaim
    from tests.factories import RewardFactory

    reward = RewardFactory(points_cost=100, monetary_value=Decimal("20.00"))

    def claim(status, created, fulfilled=None, charity=None):
        advocate = AdvocateFactory()
        db.session.add(RewardClaim(reward=reward, user_id=advocate.user_id, advocate_id=advocate.id, status=status,
                                   points=100, monetary_value=Decimal("20.00"), charity=charity,
                                   created_at=created, fulfilled_at=fulfilled))

    claim(ClaimStatus.FULFILLED, at(2), at(5))
    claim(ClaimStatus.FULFILLED, S - timedelta(days=3), at(1), charity="Red Cross")  # claimed before, sent in Q2
    claim(ClaimStatus.FULFILLED, at(80), Q.end + timedelta(days=2))  # sent after the quarter
    claim(ClaimStatus.REQUESTED, at(10))
    claim(ClaimStatus.APPROVED, at(11))
    claim(ClaimStatus.REJECTED, at(12))
    claim(ClaimStatus.CANCELLED, at(13))
    claim(ClaimStatus.CANCELLED, S - timedelta(days=1))  # before the quarter
    db.session.flush()
    assert reporting.figures(Q, now=Q.end)["rewards"] == {
        "waiting": 1, "to_send": 1, "rejected": 1, "cancelled": 1, "fulfilled": 2,
        "fulfilled_value": Decimal("40.00"), "fulfilled_points": 200, "donations": 1,
    }
