"""Availability: whether, and from when, an advocate may be asked (SPEC §4-5). The one
module that owns it; nothing else computes any part of it.

- The rule itself is pure, in ``contact_rules`` (a snapshot in, a verdict or a window out).
- ``check`` gives the verdict for one advocate and one activity: what an ask uses, under the
  advocate's row lock.
- Every advocate has a maintained state (``AdvocateAvailability``): the window in which the
  rule allows an ask (activity aside), the counts the advocate and the team see, the
  over-use flag and the fair-ranking columns. It is rewritten in the same transaction as any
  change to what the rule reads (asks, preferences, pause, blackouts, status, account
  health, program settings): session hooks notice the change at flush, and the state is
  refreshed before anything reads it and before the commit, so no service can forget. Time
  alone moves the counts and the over-use flag; ``refresh_due`` (a periodic job) refreshes
  each row when its ``next_change_at`` comes, at the advocate's local midnight.
- The set form (``available_now_condition``, ``usage_condition``, ``RANKING``) reads that
  state through indexes. "Available now" is exact at any instant, even if the job is late:
  it compares the instant with the stored window, which time alone never moves.
- ``differences``/``rebuild`` compare every row with a fresh refresh and repair it.

With no activity named, "available now" means: askable, and consented to reference calls
(what the reference database lists); an activity adds its opt-in and its purpose's consent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, cast, event, exists, func, inspect, or_, select, true, update
from sqlalchemy.orm import Session

from portal.database import db, utcnow
from portal.models import (
    COUNTING_STATUSES,
    Account,
    ActivityType,
    Advocate,
    AdvocateAvailability,
    Ask,
    Blackout,
    Consent,
    ConsentPurpose,
    ProgramSettings,
    Role,
    User,
    advocate_activity_types,
)
from portal.services import audit, consent
from portal.services.contact_rules import (
    RECENT_DAYS,
    Activity,
    PastAsk,
    Snapshot,
    Verdict,
    Window,
    evaluate,
    local_date,
    window,
)
from portal.services.consistency import Difference, Progress
from portal.services.errors import DomainError

State = AdvocateAvailability
USAGE_CHOICES = ("over", "under")
# Without an activity, "available now" is about reference calls (what sellers look for).
DEFAULT_PURPOSE = ConsentPurpose.REFERENCE_CALLS
# A refresh, a rebuild and the periodic job read and write this many advocates at a time.
BATCH = 500

# --- program settings and limits -------------------------------------------------------------

PROGRAM_DEFAULTS = {"month_limit": 1, "quarter_limit": 3, "light_cooldown_days": 14, "heavy_cooldown_days": 60}


def settings() -> ProgramSettings:
    """The program's contact rules; the defaults (SPEC §4) until an admin saves others.
    Reading never writes: the row is created when an admin first saves the rules."""
    return db.session.get(ProgramSettings, 1) or ProgramSettings(id=1, **PROGRAM_DEFAULTS)


def effective_limits(advocate: Advocate, program: ProgramSettings) -> tuple[int, int]:
    """An advocate's own limits, never above the program's."""
    month = program.month_limit if advocate.month_limit is None else min(advocate.month_limit, program.month_limit)
    quarter = program.quarter_limit if advocate.quarter_limit is None else min(advocate.quarter_limit, program.quarter_limit)
    return month, quarter


def update_settings(actor: User, month_limit: int, quarter_limit: int, light_days: int, heavy_days: int) -> ProgramSettings:
    if actor.role is not Role.ADMIN:
        raise DomainError("Only admins change the program's contact rules.")
    if quarter_limit < month_limit:
        raise DomainError("A quarter has three months: allow at least as many a quarter as a month.", field="quarter_limit")
    program = db.session.get(ProgramSettings, 1)
    if program is None:
        program = ProgramSettings(id=1, **PROGRAM_DEFAULTS)
        db.session.add(program)
    before = {name: getattr(program, name) for name in PROGRAM_DEFAULTS}
    program.month_limit, program.quarter_limit = month_limit, quarter_limit
    program.light_cooldown_days, program.heavy_cooldown_days = light_days, heavy_days
    db.session.flush()
    audit.record(actor, "settings.contact_rules", program, "Changed the program's contact rules", before=before)
    return program


# --- snapshots: what the rule reads ----------------------------------------------------------


def _history_start(now: datetime, program: ProgramSettings) -> datetime:
    """Asks sent since this instant are all the rule and the state need: the last quarter
    (over-use: at most 184 days back, in any time zone), the recent window and the longest
    cool-down."""
    return now - timedelta(days=max(185, RECENT_DAYS, program.heavy_cooldown_days, program.light_cooldown_days) + 2)


def snapshots(
    advocates: list[Advocate], now: datetime, program: ProgramSettings | None = None, *, standing: bool = True
) -> dict[int, Snapshot]:
    """Each advocate's snapshot, from one query per kind of input for all of them.
    ``standing=False`` leaves out the activity's inputs (opt-ins, consents), which the
    maintained state does not hold."""
    program = program or settings()
    ids = [a.id for a in advocates]
    asks: dict[int, list[PastAsk]] = {i: [] for i in ids}
    blackouts: dict[int, list[tuple[date, date]]] = {i: [] for i in ids}
    for advocate_id, sent, weight, name in db.session.execute(
        select(Ask.advocate_id, Ask.created_at, ActivityType.weight, ActivityType.name)
        .join(ActivityType, Ask.activity_type_id == ActivityType.id)
        .where(Ask.advocate_id.in_(ids), Ask.status.in_(COUNTING_STATUSES), Ask.created_at >= _history_start(now, program))
    ):
        asks[advocate_id].append(PastAsk(sent, weight, name))
    for advocate_id, start, end in db.session.execute(
        select(Blackout.advocate_id, Blackout.starts_on, Blackout.ends_on).where(
            Blackout.advocate_id.in_(ids), Blackout.ends_on >= (now - timedelta(days=1)).date()
        )
    ):
        blackouts[advocate_id].append((start, end))
    granted: dict[int, set[ConsentPurpose]] = {i: set() for i in ids}
    opted_in: dict[int, set[int]] = {i: set() for i in ids}
    if standing:
        for advocate_id, purpose in db.session.execute(
            select(Consent.advocate_id, Consent.purpose).where(Consent.advocate_id.in_(ids), Consent.granted == true())
        ):
            granted[advocate_id].add(purpose)
        for advocate_id, activity_id in db.session.execute(
            select(advocate_activity_types.c.advocate_id, advocate_activity_types.c.activity_type_id).where(
                advocate_activity_types.c.advocate_id.in_(ids)
            )
        ):
            opted_in[advocate_id].add(activity_id)
    result = {}
    for advocate in advocates:
        month, quarter = effective_limits(advocate, program)
        result[advocate.id] = Snapshot(
            name=advocate.user.name,
            company=advocate.account.name,
            status=advocate.status,
            account_at_risk=advocate.account.at_risk,
            opted_in=frozenset(opted_in[advocate.id]),
            consents=frozenset(granted[advocate.id]),
            month_limit=month,
            quarter_limit=quarter,
            time_zone=advocate.time_zone or "UTC",
            paused_until=advocate.paused_until,
            blackouts=tuple(sorted(blackouts[advocate.id])),
            asks=tuple(sorted(asks[advocate.id], key=lambda a: a.sent_at)),
            light_cooldown_days=program.light_cooldown_days,
            heavy_cooldown_days=program.heavy_cooldown_days,
        )
    return result


def snapshot(advocate: Advocate, now: datetime) -> Snapshot:
    return snapshots([advocate], now)[advocate.id]


def as_activity(activity_type: ActivityType) -> Activity:
    label = consent.current_wording(activity_type.purpose).label if activity_type.purpose else ""
    return Activity(activity_type.id, activity_type.name, activity_type.weight, activity_type.purpose, label)


def check(advocate: Advocate, activity_type: ActivityType, now: datetime | None = None) -> Verdict:
    """The verdict for one ask: every reason it would be refused, and the next date."""
    now = now or utcnow()
    return evaluate(snapshot(advocate, now), as_activity(activity_type), now)


# --- the maintained state --------------------------------------------------------------------


def _lock(ids: list[int]) -> list[Advocate]:
    """The advocates, locked in id order (no deadlock between two refreshes) and read afresh
    with the lock, so a refresh waits for a concurrent change and then sees it."""
    return list(
        db.session.scalars(
            select(Advocate)
            .where(Advocate.id.in_(ids))
            .order_by(Advocate.id)
            .with_for_update(of=Advocate)
            .execution_options(populate_existing=True)
        )
    )


def _last_asked(ids: list[int]) -> dict[int, datetime]:
    return dict(
        db.session.execute(
            select(Ask.advocate_id, func.max(Ask.created_at))
            .where(Ask.advocate_id.in_(ids), Ask.status.in_(COUNTING_STATUSES))
            .group_by(Ask.advocate_id)
        ).all()
    )


def _values(found: Window, last_asked_at: datetime | None) -> dict:
    return {
        "askable_from": found.askable_from,
        "askable_until": found.askable_until,
        "reasons": list(found.reasons),
        "askable": found.askable_at(found.as_of),
        "month_used": found.month_used,
        "quarter_used": found.quarter_used,
        "month_limit": found.month_limit,
        "quarter_limit": found.quarter_limit,
        "over_used": found.over_used,
        "recent_count": found.recent,
        "last_asked_at": last_asked_at,
        "next_change_at": found.next_change_at,
    }


def same_window(row: State, expected: dict, now: datetime) -> bool:
    """The stored window gives the same answer as ``expected`` from ``now`` on. The start of
    a window that is open now is whenever it was first seen open (a later refresh would say
    "from today"), so an open window is compared by its end alone."""
    if expected["askable_until"] != row.askable_until:
        return False
    if expected["askable"]:
        return row.askable_from is not None and row.askable_from <= now
    return expected["askable_from"] == row.askable_from


def computed(ids: list[int], now: datetime, *, lock: bool = True) -> dict[int, dict]:
    """What each advocate's state should hold at ``now`` (advocates that no longer exist are
    left out)."""
    advocates = _lock(ids) if lock else list(db.session.scalars(select(Advocate).where(Advocate.id.in_(ids))))
    found = snapshots(advocates, now, standing=False)
    last = _last_asked([a.id for a in advocates])
    return {i: _values(window(snap, now), last.get(i)) for i, snap in found.items()}


def refresh(advocate_ids, now: datetime | None = None) -> None:
    """Rewrite the state of these advocates from the rule (creating missing rows)."""
    now = now or utcnow()
    ids = sorted(set(advocate_ids))
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        values = computed(batch, now)
        rows = {s.advocate_id: s for s in db.session.scalars(select(State).where(State.advocate_id.in_(batch)))}
        for advocate_id in batch:
            row = rows.get(advocate_id)
            if advocate_id not in values:
                if row is not None:
                    db.session.delete(row)
                continue
            expected = values[advocate_id]
            if row is None:
                row = State(advocate_id=advocate_id)
                db.session.add(row)
            elif same_window(row, expected, now):
                del expected["askable_from"]  # unchanged: publishes nothing
            for name, value in expected.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
            row.refreshed_at = now
    db.session.flush()


def state_of(advocate: Advocate, now: datetime | None = None) -> State | None:
    sync()
    return db.session.get(State, advocate.id)


def refresh_due(now: datetime | None = None, batch: int = BATCH) -> int:
    """Refresh one batch of the rows whose ``next_change_at`` has come (and advocates that
    have no row yet, e.g. after an upgrade). Rows are claimed with SKIP LOCKED on the
    advocates (the lock a refresh takes anyway), so several consumers share the work and
    none waits for an ask in progress. Returns how many were refreshed; the caller commits."""
    now = now or utcnow()
    due = (
        select(Advocate.id)
        .outerjoin(State, State.advocate_id == Advocate.id)
        .where(or_(State.advocate_id.is_(None), State.next_change_at <= now))
        .order_by(Advocate.id)
        .limit(batch)
        .with_for_update(of=Advocate, skip_locked=True)
    )
    ids = list(db.session.scalars(due))
    if ids:
        refresh(ids, now)
    return len(ids)


# --- keeping the state current: noticing changes at flush ------------------------------------

_PENDING, _ACCOUNTS, _EVERYONE = "availability_advocates", "availability_accounts", "availability_everyone"
ADVOCATE_INPUTS = ("status", "account_id", "paused_until", "month_limit", "quarter_limit", "time_zone")


def _changed(obj, fields) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "after_flush")
def _notice_changes(session: Session, _context) -> None:
    pending = session.info.setdefault(_PENDING, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Advocate):
            if obj in session.new or obj in session.deleted or _changed(obj, ADVOCATE_INPUTS):
                pending.add(obj.id)
        elif isinstance(obj, Ask):
            if obj in session.new or obj in session.deleted or _changed(obj, ("status", "created_at", "activity_type_id")):
                pending.add(obj.advocate_id)
        elif isinstance(obj, Blackout):
            pending.add(obj.advocate_id)
            if obj not in session.new:
                pending.update(v for v in inspect(obj).attrs.advocate_id.history.deleted if v)
        elif isinstance(obj, Account) and obj not in session.new and _changed(obj, ("at_risk",)):
            session.info.setdefault(_ACCOUNTS, set()).add(obj.id)
        elif isinstance(obj, ProgramSettings):
            session.info[_EVERYONE] = True


def sync(session: Session | None = None) -> None:
    """Bring the state up to date with what this transaction changed so far."""
    session = session or db.session()
    if session.info.get("availability_syncing"):
        return
    session.info["availability_syncing"] = True
    try:
        session.flush()
        while any(session.info.get(key) for key in (_PENDING, _ACCOUNTS, _EVERYONE)):
            ids = set(session.info.pop(_PENDING, set()))
            ids.discard(None)
            accounts = session.info.pop(_ACCOUNTS, set())
            if accounts:
                ids |= set(session.scalars(select(Advocate.id).where(Advocate.account_id.in_(accounts))))
            if session.info.pop(_EVERYONE, False):
                _settings_changed(session)
            if ids:
                refresh(ids)
            session.flush()
    finally:
        session.info.pop("availability_syncing", None)


def _settings_changed(session: Session) -> None:
    """New limits or cool-downs change every advocate: all rows become due at once for the
    periodic job (at 100,000 advocates a full refresh takes minutes), and this request
    refreshes the first batch itself. Asks are checked by the rule itself meanwhile."""
    now = utcnow()
    session.execute(update(State).values(next_change_at=now).execution_options(synchronize_session=False))
    session.expire_all()
    refresh_due(now)


# Before the publishing hooks (registered later, at their import) look at what changed.
event.listen(Session, "before_commit", lambda session: sync(session), insert=True)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        for key in (_PENDING, _ACCOUNTS, _EVERYONE):
            session.info.pop(key, None)


# --- the set form ----------------------------------------------------------------------------


def askable(now: datetime):
    """The state's window holds ``now``: the rule allows an ask then (activity aside)."""
    return and_(State.askable_from <= now, or_(State.askable_until.is_(None), State.askable_until > now))


def askable_condition(now: datetime):
    """``askable`` asked of the advocate (a correlated EXISTS on the state's key), so it
    holds whether or not the query joins the state."""
    return _of_state(askable(now))


def _of_state(condition):
    # Correlated on the advocate only: the state may be joined in the outer query too.
    return select(State.advocate_id).where(State.advocate_id == Advocate.id, condition).correlate_except(State).exists()


def _purposes(activity_type_ids: list[int]) -> set[ConsentPurpose]:
    if not activity_type_ids:
        return {DEFAULT_PURPOSE}
    return set(
        db.session.scalars(
            select(ActivityType.purpose).where(ActivityType.id.in_(activity_type_ids), ActivityType.purpose.is_not(None))
        )
    )


def consented_condition(purposes: set[ConsentPurpose], advocate_id=Advocate.id):
    return and_(
        true(),
        *[
            exists().where(Consent.advocate_id == advocate_id, Consent.purpose == purpose, Consent.granted == true())
            for purpose in sorted(purposes)
        ],
    )


def opted_in_condition(activity_type_ids: list[int], advocate_id=Advocate.id):
    return and_(
        true(),
        *[
            exists().where(
                advocate_activity_types.c.advocate_id == advocate_id,
                advocate_activity_types.c.activity_type_id == activity_id,
            )
            for activity_id in activity_type_ids
        ],
    )


def available_now_condition(activity_type_ids: list[int] | None = None, now: datetime | None = None):
    """Advocates the rule allows to be asked at ``now`` for every one of these activities
    (or, with none, for a reference call): the same answer as ``check`` for each of them."""
    sync()
    now = now or utcnow()
    activity_type_ids = list(activity_type_ids or [])
    return and_(askable_condition(now), opted_in_condition(activity_type_ids), consented_condition(_purposes(activity_type_ids)))


def reachable_condition(now: datetime | None = None):
    """Advocates who are neither paused nor away now (by their state): the part of the rule
    that is the advocate's own "do not contact me", which invitations respect. Limits,
    cool-downs and account health are left out on purpose: an invitation is not an ask (it
    does not count), and review platforms forbid choosing reviewers by account health."""
    sync()
    blocked = or_(*(cast(State.reasons, String).like(f'%"{code}"%') for code in ("paused", "blackout")))
    return _of_state(~blocked)


def count_of_state(activity_type_ids: list[int], available_now: bool, usage: str, now: datetime | None = None) -> int:
    """How many advocates the directory lists for "Available now" and/or a usage list (and
    activities), with nothing else chosen: the same conditions as ``available_now_condition``,
    ``usage_condition`` and the activity filter, asked of the state, the consents and the
    opt-ins alone. Each implies an approved advocate (an askable or over-used state is an
    approved advocate's), so the advocates table, the largest, is not read: at 100,000
    advocates these are the directory's busiest counts."""
    sync()
    now = now or utcnow()
    key = State.advocate_id
    conditions = [opted_in_condition(activity_type_ids, key)]
    if available_now:
        conditions += [askable(now), consented_condition(_purposes(activity_type_ids), key)]
    if usage == "under":
        conditions += [askable(now), consented_condition({DEFAULT_PURPOSE}, key), State.recent_count == 0]
    elif usage == "over":
        conditions.append(State.over_used == true())
    return db.session.scalar(select(func.count()).select_from(State).where(*conditions))


def usage_condition(kind: str, now: datetime | None = None):
    """Over-used: at their monthly limit last month and this month, or at their quarterly
    limit last quarter and this quarter (local periods). Under-used: available now and not
    asked in 90 days."""
    sync()
    now = now or utcnow()
    if kind == "over":
        return _of_state(State.over_used == true())
    return and_(available_now_condition([], now), _of_state(State.recent_count == 0))


class Counting:
    """The set form for one aggregate pass over advocates (the dashboard, coverage): the
    state and the consent to reference calls joined once, and conditions on them to count
    with. The same clauses as ``available_now_condition`` and ``usage_condition``."""

    def __init__(self, now: datetime):
        sync()
        self.now = now
        # One consent row per advocate and purpose (a unique constraint): the join adds no rows.
        self.consent = (
            select(Consent.advocate_id)
            .where(Consent.purpose == DEFAULT_PURPOSE, Consent.granted == true())
            .subquery("consent")
        )

    def join(self, query):
        """``query`` (from advocates) with their state and consent."""
        return query.outerjoin(State, State.advocate_id == Advocate.id).outerjoin(
            self.consent, self.consent.c.advocate_id == Advocate.id
        )

    def available(self):
        return and_(askable(self.now), self.consent.c.advocate_id.is_not(None))

    def over_used(self):
        return State.over_used == true()

    def under_used(self):
        return and_(self.available(), State.recent_count == 0)


def ranked(query):
    """``query`` (from advocates) ordered to spread the load: fewest recent contacts first,
    then whoever waited longest (never asked first), then by id: the order of the state's
    rank index, so a page reads its rows off the index instead of sorting every match. Every
    advocate has a state (written with the advocate, repaired by the rebuild)."""
    return query.join(State, State.advocate_id == Advocate.id).order_by(
        State.recent_count, State.last_asked_at.asc().nulls_first(), State.advocate_id
    )


# --- what one advocate and the team see -------------------------------------------------------


@dataclass
class Usage:
    month_used: int
    month_limit: int
    quarter_used: int
    quarter_limit: int
    next_allowed: date | None
    paused_until: date | None
    today: date  # in the advocate's time zone
    reasons: tuple[str, ...] = ()

    @property
    def available_now(self) -> bool:
        return self.next_allowed is not None and self.next_allowed <= self.today


def usage(advocate: Advocate, now: datetime | None = None) -> Usage:
    """What an advocate sees: "1 of 2 this month" and the next date a new ask is allowed,
    from the maintained state (worked out afresh, without writing, if the job is late)."""
    now = now or utcnow()
    row = state_of(advocate, now)
    if row is None or (row.next_change_at is not None and row.next_change_at <= now):
        values = computed([advocate.id], now, lock=False).get(advocate.id)
        row = State(advocate_id=advocate.id, **values) if values else State(advocate_id=advocate.id)
    tz = advocate.time_zone or "UTC"
    at = next_allowed_at(row, now)
    return Usage(
        month_used=row.month_used or 0,
        month_limit=row.month_limit or 0,
        quarter_used=row.quarter_used or 0,
        quarter_limit=row.quarter_limit or 0,
        next_allowed=local_date(at, tz) if at else None,
        paused_until=advocate.paused_until,
        today=local_date(now, tz),
        reasons=tuple(row.reasons or ()),
    )


def next_allowed_at(row: State | None, now: datetime) -> datetime | None:
    """When the next ask is allowed, by the state: ``now`` or later, None for never."""
    if row is None or row.askable_from is None:
        return None
    if row.askable_until is not None and now >= row.askable_until:
        return None  # the job moves the window when the blackout starts
    return max(row.askable_from, now)


# --- comparing with the rule, and repairing ----------------------------------------------------

COMPARED = ("reasons", "askable", "month_used", "quarter_used", "month_limit", "quarter_limit", "over_used",
            "recent_count", "last_asked_at", "next_change_at")


def _compare(now: datetime, progress: Progress | None = None) -> Iterator[Difference]:
    ids = list(db.session.scalars(select(Advocate.id).order_by(Advocate.id)))
    for start in range(0, len(ids), BATCH):
        if progress:
            progress(start, len(ids))
        batch = ids[start:start + BATCH]
        values = computed(batch, now, lock=False)
        rows = {s.advocate_id: s for s in db.session.scalars(select(State).where(State.advocate_id.in_(batch)))}
        for advocate_id in batch:
            row, expected = rows.get(advocate_id), values.get(advocate_id)
            if row is None:
                yield Difference(advocate_id, "add")
                continue
            wrong = tuple(name for name in COMPARED if getattr(row, name) != expected[name])
            if not same_window(row, expected, now):
                wrong = ("askable_from", "askable_until", *wrong)
            if wrong:
                yield Difference(advocate_id, "update", wrong)
    if progress:
        progress(len(ids), len(ids))


def differences(now: datetime | None = None, progress: Progress | None = None) -> list[Difference]:
    """Every advocate whose state differs from a fresh refresh (nothing is written)."""
    sync()
    return list(_compare(now or utcnow(), progress))


def rebuild(now: datetime | None = None, progress: Progress | None = None) -> list[Difference]:
    """Repair every difference (and drop rows of advocates that no longer exist); returns
    what was repaired. The caller commits."""
    now = now or utcnow()
    found = differences(now, progress)
    refresh([d.advocate_id for d in found], now)
    db.session.execute(
        State.__table__.delete().where(~exists().where(Advocate.id == State.advocate_id))
    )
    return found
