"""The one rule that decides whether an advocate may be asked, and when next.

Pure: it takes a snapshot of the advocate and returns a verdict (``evaluate``) or the
advocate's askable window (``window``), so that it can be tested as a table without a
database. ``portal.services.availability`` is its only caller: it builds snapshots (under
the advocate's row lock for an ask) and keeps each advocate's window as a maintained state
that every list of "who can be asked" reads.

Limits are counted by calendar month and quarter in the advocate's own time zone. An ask
counts from when it is sent until it is declined or withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.models import ActivityWeight, AdvocateStatus, ConsentPurpose

# How far ahead the next allowed date is looked for.
HORIZON_DAYS = 400
# "Recent contacts" for the fair ranking and for under-use.
RECENT_DAYS = 90
# The reasons no date fixes without the activity: asked of every advocate.
STANDING_CODES = frozenset({"not_approved", "account_at_risk"})


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


# --- month and quarter arithmetic (the only copy) ------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month_start(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def previous_month_start(day: date) -> date:
    return month_start(month_start(day) - timedelta(days=1))


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def previous_quarter_start(day: date) -> date:
    return quarter_start(quarter_start(day) - timedelta(days=1))


def day_start(day: date, time_zone: str) -> datetime:
    """The first instant (UTC) of ``day`` in ``time_zone``. Where a DST change skips
    midnight, the day starts when the clocks jump (zoneinfo maps the missing time with the
    offset before the change, which is that very instant)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


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


def _general_refusals(snapshot: Snapshot) -> list[Refusal]:
    """Reasons no date fixes that hold whatever the activity."""
    refusals = []
    if snapshot.status is not AdvocateStatus.APPROVED:
        refusals.append(Refusal("not_approved", f"{snapshot.name} is not an approved advocate ({snapshot.status.label.lower()})."))
    if snapshot.account_at_risk:
        refusals.append(
            Refusal("account_at_risk", f"{snapshot.company} is marked at risk: no asks to its advocates until it recovers.")
        )
    return refusals


def _standing_refusals(snapshot: Snapshot, activity: Activity) -> list[Refusal]:
    """Reasons no date fixes: they last until someone changes something."""
    refusals = _general_refusals(snapshot)
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


@dataclass(frozen=True)
class Window:
    """When an advocate can be asked, whatever the activity (the activity adds only opt-in
    and consent), as worked out at ``as_of``; what ``portal.services.availability`` keeps.

    ``askable_from <= t < askable_until`` (an open end when ``askable_until`` is None) is
    exactly "the rule allows an ask at t, activity aside" for every ``t >= as_of`` until
    something changes: time alone moves no edge. ``askable_from`` is None when no date
    within the horizon allows an ask (``reasons`` say why)."""

    as_of: datetime
    askable_from: datetime | None
    askable_until: datetime | None
    reasons: tuple[str, ...]  # the refusal codes at ``as_of`` (none when askable then)
    month_used: int
    quarter_used: int
    month_limit: int
    quarter_limit: int
    over_used: bool
    recent: int  # asks that count, sent in the last RECENT_DAYS days
    # The first instant at which time alone changes any of the above (a new local month,
    # an edge of the window or of a reason, a recent ask growing old).
    next_change_at: datetime | None

    def askable_at(self, moment: datetime) -> bool:
        return (
            self.askable_from is not None
            and self.askable_from <= moment
            and (self.askable_until is None or moment < self.askable_until)
        )


def window(snapshot: Snapshot, now: datetime) -> Window:
    tz = snapshot.time_zone
    today = local_date(now, tz)
    general = _general_refusals(snapshot)
    timed = _timed_refusals(snapshot, today)
    first = None if general else (today if not timed else next_allowed_date(snapshot, today))
    askable_from = askable_until = None
    if first is not None:
        askable_from = day_start(first, tz)
        # After the first allowed day only a blackout that starts later blocks again: a
        # pause and a cool-down only ever end, and no ask is counted in a later period.
        later = [start for start, _end in snapshot.blackouts if start > first]
        askable_until = day_start(min(later), tz) if later else None
    sent = [(local_date(a.sent_at, tz), a) for a in snapshot.asks]
    month, quarter = month_start(today), quarter_start(today)
    last_month, last_quarter = previous_month_start(today), previous_quarter_start(today)
    month_used = sum(1 for d, _ in sent if d >= month)
    quarter_used = sum(1 for d, _ in sent if d >= quarter)
    last_month_used = sum(1 for d, _ in sent if last_month <= d < month)
    last_quarter_used = sum(1 for d, _ in sent if last_quarter <= d < quarter)
    recent_since = now - timedelta(days=RECENT_DAYS)
    recent = [a.sent_at for _, a in sent if a.sent_at >= recent_since]
    approved = snapshot.status is AdvocateStatus.APPROVED
    # Every day on which a count, a reason or an edge of the window can change by itself.
    days = {next_month_start(today)}
    if snapshot.paused_until:
        days.add(snapshot.paused_until)
    for start, end in snapshot.blackouts:
        days.update((start, end + timedelta(days=1)))
    days.update(d + timedelta(days=cooldown_days(snapshot, a.weight)) for d, a in sent)
    changes = [day_start(day, tz) for day in days if day > today]
    changes += [moment + timedelta(days=RECENT_DAYS) for moment in recent]
    return Window(
        as_of=now,
        askable_from=askable_from,
        askable_until=askable_until,
        reasons=tuple(r.code for r in general + timed),
        month_used=month_used,
        quarter_used=quarter_used,
        month_limit=snapshot.month_limit,
        quarter_limit=snapshot.quarter_limit,
        over_used=approved
        and (
            (month_used >= snapshot.month_limit and last_month_used >= snapshot.month_limit)
            or (quarter_used >= snapshot.quarter_limit and last_quarter_used >= snapshot.quarter_limit)
        ),
        recent=len(recent),
        next_change_at=min(changes, default=None),
    )
