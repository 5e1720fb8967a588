"""The allow/refuse rule as a table: every reason, and the next allowed date across month
and quarter boundaries and time zones."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from portal.models import ActivityWeight, AdvocateStatus, ConsentPurpose
from portal.services.contact_rules import Activity, PastAsk, Snapshot, evaluate

CALL = Activity(1, "Reference call", ActivityWeight.LIGHT, ConsentPurpose.REFERENCE_CALLS, "Reference calls")
CASE = Activity(2, "Case study", ActivityWeight.HEAVY, ConsentPurpose.CASE_STUDY, "Case study publication")
FEEDBACK = Activity(3, "Product feedback", ActivityWeight.LIGHT, None)

BASE = Snapshot(
    name="Ana",
    company="Banco Istmeño",
    status=AdvocateStatus.APPROVED,
    account_at_risk=False,
    opted_in=frozenset({1, 2, 3}),
    consents=frozenset({ConsentPurpose.REFERENCE_CALLS, ConsentPurpose.CASE_STUDY}),
    month_limit=1,
    quarter_limit=3,
    time_zone="America/Panama",
)
NOW = datetime(2027, 2, 10, 15, 0, tzinfo=UTC)  # 10 Feb 2027, 10:00 in Panama


def ask(when: str, weight=ActivityWeight.LIGHT, name="Reference call") -> PastAsk:
    return PastAsk(datetime.fromisoformat(when).replace(tzinfo=UTC), weight, name)


CASES = [
    # id, changes to BASE, activity, now, refusal codes, next allowed (local date)
    ("allowed", {}, CALL, NOW, set(), date(2027, 2, 10)),
    ("not approved", {"status": AdvocateStatus.PENDING}, CALL, NOW, {"not_approved"}, date(2027, 2, 10)),
    ("account at risk", {"account_at_risk": True}, CALL, NOW, {"account_at_risk"}, date(2027, 2, 10)),
    ("opted out", {"opted_in": frozenset({2})}, CALL, NOW, {"opted_out"}, date(2027, 2, 10)),
    ("no consent", {"consents": frozenset()}, CALL, NOW, {"no_consent"}, date(2027, 2, 10)),
    ("no consent needed for feedback", {"consents": frozenset()}, FEEDBACK, NOW, set(), date(2027, 2, 10)),
    ("paused", {"paused_until": date(2027, 3, 5)}, CALL, NOW, {"paused"}, date(2027, 3, 5)),
    ("pause over", {"paused_until": date(2027, 2, 10)}, CALL, NOW, set(), date(2027, 2, 10)),
    ("blackout", {"blackouts": ((date(2027, 2, 8), date(2027, 2, 20)),)}, CALL, NOW, {"blackout"}, date(2027, 2, 21)),
    (
        "month limit, next month",
        {"asks": (ask("2027-02-01T15:00"),), "light_cooldown_days": 0},
        CALL, NOW, {"month_limit"}, date(2027, 3, 1),
    ),
    (
        "light cool-down outlasts the month",
        {"asks": (ask("2027-02-25T15:00"),), "light_cooldown_days": 14},
        CALL, datetime(2027, 3, 2, 15, tzinfo=UTC), {"cooldown"}, date(2027, 3, 11),
    ),
    (
        "heavy cool-down",
        {"asks": (ask("2027-01-05T15:00", ActivityWeight.HEAVY, "Case study"),), "month_limit": 5, "quarter_limit": 9},
        CALL, NOW, {"cooldown"}, date(2027, 3, 6),
    ),
    (
        "quarter limit, next quarter",
        {
            "asks": (ask("2027-01-05T15:00"), ask("2027-02-03T15:00"), ask("2027-03-01T15:00")),
            "month_limit": 2,
            "light_cooldown_days": 0,
        },
        CALL, datetime(2027, 3, 15, 15, tzinfo=UTC), {"quarter_limit"}, date(2027, 4, 1),
    ),
    (
        "month and quarter limits together",
        {"asks": (ask("2027-03-10T15:00"), ask("2027-02-03T15:00"), ask("2027-01-03T15:00")), "light_cooldown_days": 0},
        CALL, datetime(2027, 3, 20, 15, tzinfo=UTC), {"month_limit", "quarter_limit"}, date(2027, 4, 1),
    ),
    (
        "a new quarter starts fresh",
        {"asks": (ask("2027-01-05T15:00"), ask("2027-02-03T15:00"), ask("2027-03-01T15:00")), "light_cooldown_days": 0},
        CALL, datetime(2027, 4, 1, 15, tzinfo=UTC), set(), date(2027, 4, 1),
    ),
    (
        # 31 Jan 23:30 UTC is already 1 February in Tokyo: it counts in February there.
        "time zone: Tokyo counts the ask in February",
        {"asks": (ask("2027-01-31T23:30"),), "time_zone": "Asia/Tokyo", "light_cooldown_days": 0},
        CALL, NOW, {"month_limit"}, date(2027, 3, 1),
    ),
    (
        "time zone: Panama counts the same ask in January",
        {"asks": (ask("2027-01-31T23:30"),), "time_zone": "America/Panama", "light_cooldown_days": 0},
        CALL, NOW, set(), date(2027, 2, 10),
    ),
    (
        # 31 Mar 20:00 UTC is already 1 April in Auckland: it counts in April (Q2) there.
        "time zone across a month boundary at the start of a quarter",
        {"asks": (ask("2027-03-31T20:00"),), "time_zone": "Pacific/Auckland", "light_cooldown_days": 0},
        CALL, datetime(2027, 4, 5, 0, tzinfo=UTC), {"month_limit"}, date(2027, 5, 1),
    ),
    ("a limit of zero never allows", {"month_limit": 0}, CALL, NOW, {"month_limit"}, None),
]


@pytest.mark.parametrize(("changes", "activity", "now", "codes", "next_allowed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(changes, activity, now, codes, next_allowed):
    verdict = evaluate(replace(BASE, **changes), activity, now)
    assert verdict.codes == codes
    assert verdict.allowed == (not codes)
    assert verdict.next_allowed == next_allowed


def test_refusal_messages_name_the_exact_reason():
    snapshot = replace(
        BASE,
        status=AdvocateStatus.PENDING,
        consents=frozenset(),
        paused_until=date(2027, 3, 5),
        asks=(ask("2027-02-01T15:00"),),
    )
    messages = [r.message for r in evaluate(snapshot, CALL, NOW).refusals]
    assert "Ana is not an approved advocate (waiting for approval)." in messages
    assert "Ana has not consented to “Reference calls”." in messages
    assert "Ana has paused all contact until 5 March 2027." in messages
    assert "Ana allows 1 ask a month and has 1 in February 2027." in messages
    assert any(m.startswith("Cool-down: after the light ask “Reference call” on 1 February 2027") for m in messages)
