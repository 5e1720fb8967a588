"""The one rule that decides whether an advocate may be asked, and when next.

Pure: it takes a snapshot of the advocate and returns a verdict, so that it can be tested
as a table without a database. ``portal.services.asks`` builds the snapshot under a row
lock and applies the verdict.

Limits are counted by calendar month and quarter in the advocate's own time zone. An ask
counts from when it is sent until it is declined or withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from portal.models import ActivityWeight, AdvocateStatus, ConsentPurpose

# How far ahead the next allowed date is looked for.
HORIZON_DAYS = 400


@dataclass(frozen=True)
class PastAsk:
    sent_at: datetime
    weight: ActivityWeight
    activity_name: str


@dataclass(frozen=True)
class Snapshot:
    name: str
    company: str
    status: AdvocateStatus
    account_at_risk: bool
    opted_in: frozenset[int]
    consents: frozenset[ConsentPurpose]
    month_limit: int
    quarter_limit: int
    time_zone: str
    paused_until: date | None = None
    blackouts: tuple[tuple[date, date], ...] = ()
    asks: tuple[PastAsk, ...] = ()
    light_cooldown_days: int = 14
    heavy_cooldown_days: int = 60


@dataclass(frozen=True)
class Activity:
    id: int
    name: str
    weight: ActivityWeight
    purpose: ConsentPurpose | None
    purpose_label: str = ""


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


@dataclass(frozen=True)
class Verdict:
    refusals: tuple[Refusal, ...] = ()
    # The first day (the advocate's local date) on which the limits, cool-down, pause and
    # blackouts allow an ask; None when they never will within the horizon.
    next_allowed: date | None = None
    # Reasons that no date fixes (opt-out, consent, status, account health).
    blocked: bool = False
    codes: frozenset[str] = field(default=frozenset())

    @property
    def allowed(self) -> bool:
        return not self.refusals


def local_date(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def cooldown_days(snapshot: Snapshot, weight: ActivityWeight) -> int:
    return snapshot.heavy_cooldown_days if weight is ActivityWeight.HEAVY else snapshot.light_cooldown_days


def _fmt(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _timed_refusals(snapshot: Snapshot, day: date) -> list[Refusal]:
    """The reasons that depend on the date: pause, blackout, limits, cool-down."""
    refusals = []
    if snapshot.paused_until and day < snapshot.paused_until:
        refusals.append(Refusal("paused", f"{snapshot.name} has paused all contact until {_fmt(snapshot.paused_until)}."))
    for start, end in snapshot.blackouts:
        if start <= day <= end:
            refusals.append(
                Refusal("blackout", f"{_fmt(day)} is in {snapshot.name}'s blackout from {_fmt(start)} to {_fmt(end)}.")
            )
            break
    sent_days = [(local_date(a.sent_at, snapshot.time_zone), a) for a in snapshot.asks]
    in_month = sum(1 for d, _ in sent_days if (d.year, d.month) == (day.year, day.month))
    if in_month >= snapshot.month_limit:
        refusals.append(
            Refusal(
                "month_limit",
                f"{snapshot.name} allows {snapshot.month_limit} ask{'s' if snapshot.month_limit != 1 else ''} a month "
                f"and has {in_month} in {day:%B %Y}.",
            )
        )
    in_quarter = sum(1 for d, _ in sent_days if quarter_of(d) == quarter_of(day))
    if in_quarter >= snapshot.quarter_limit:
        year, quarter = quarter_of(day)
        refusals.append(
            Refusal(
                "quarter_limit",
                f"{snapshot.name} allows {snapshot.quarter_limit} ask{'s' if snapshot.quarter_limit != 1 else ''} a quarter "
                f"and has {in_quarter} in Q{quarter} {year}.",
            )
        )
    latest_end, latest = None, None
    for sent, ask in sent_days:
        ends = sent + timedelta(days=cooldown_days(snapshot, ask.weight))
        if day < ends and (latest_end is None or ends > latest_end):
            latest_end, latest = ends, (sent, ask)
    if latest_end is not None:
        sent, ask = latest
        refusals.append(
            Refusal(
                "cooldown",
                f"Cool-down: after the {ask.weight.value} ask “{ask.activity_name}” on {_fmt(sent)}, "
                f"the next ask may come from {_fmt(latest_end)}.",
            )
        )
    return refusals


def _standing_refusals(snapshot: Snapshot, activity: Activity) -> list[Refusal]:
    """Reasons no date fixes: they last until someone changes something."""
    refusals = []
    if snapshot.status is not AdvocateStatus.APPROVED:
        refusals.append(Refusal("not_approved", f"{snapshot.name} is not an approved advocate ({snapshot.status.label.lower()})."))
    if snapshot.account_at_risk:
        refusals.append(
            Refusal("account_at_risk", f"{snapshot.company} is marked at risk: no asks to its advocates until it recovers.")
        )
    if activity.id not in snapshot.opted_in:
        refusals.append(Refusal("opted_out", f"{snapshot.name} is not open to “{activity.name}”."))
    if activity.purpose is not None and activity.purpose not in snapshot.consents:
        label = activity.purpose_label or activity.purpose.value
        refusals.append(Refusal("no_consent", f"{snapshot.name} has not consented to “{label}”."))
    return refusals


def next_allowed_date(snapshot: Snapshot, today: date) -> date | None:
    for offset in range(HORIZON_DAYS):
        day = today + timedelta(days=offset)
        if not _timed_refusals(snapshot, day):
            return day
    return None


def evaluate(snapshot: Snapshot, activity: Activity, now: datetime) -> Verdict:
    today = local_date(now, snapshot.time_zone)
    standing = _standing_refusals(snapshot, activity)
    timed = _timed_refusals(snapshot, today)
    refusals = tuple(standing + timed)
    return Verdict(
        refusals=refusals,
        next_allowed=today if not timed else next_allowed_date(snapshot, today),
        blocked=bool(standing),
        codes=frozenset(r.code for r in refusals),
    )
