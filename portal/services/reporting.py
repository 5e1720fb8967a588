"""The program's figures (SPEC §10) for a chosen quarter, each from aggregate queries.

Every figure is a function registered with ``@figure(name)`` that takes the quarter and
returns plain values (numbers, strings, lists and dicts of them), so the same figures feed
the dashboard at /admin and the PDF report, and the dashboard issues a bounded number of
queries whatever the size of the program. A new figure (campaign progress, board seats,
points liability, rewards redeemed) is one more registered function plus its template
``templates/reporting/_figure_<name>.html``."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import String, and_, case, cast, event, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.database import db, utcnow
from portal.models import (
    COUNTING_STATUSES,
    Advocate,
    AdvocateAvailability,
    AdvocateStatus,
    Ask,
    AskOutcome,
    AskStatus,
    PointsEntry,
    PointsSource,
)
from portal.models import (
    Board,
    BoardSeat,
    Campaign,
    CampaignParticipation,
    CoverageTarget,
    FiguresVersion,
    QueueItem,
    ReviewProof,
    RewardClaim,
    UnmetDemand,
)
from portal.services import availability


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @property
    def start(self) -> datetime:
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the quarter."""
        return self.next().start

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}"

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def contains(self, column):
        return and_(column >= self.start, column < self.end)

    @classmethod
    def of(cls, moment: datetime) -> Quarter:
        return cls(moment.year, (moment.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str | None) -> Quarter | None:
        match = re.fullmatch(r"(\d{4})-Q([1-4])", (text or "").strip())
        return cls(int(match[1]), int(match[2])) if match and 2000 <= int(match[1]) <= 2999 else None

    @classmethod
    def recent(cls, count: int = 8, now: datetime | None = None) -> list[Quarter]:
        """This quarter and the ``count - 1`` before it, newest first."""
        quarters = [cls.of(now or utcnow())]
        while len(quarters) < count:
            quarters.append(quarters[-1].previous())
        return quarters


Figure = Callable[[Quarter, datetime], dict]
FIGURES: dict[str, Figure] = {}


def figure(name: str) -> Callable[[Figure], Figure]:
    def register(func: Figure) -> Figure:
        FIGURES[name] = func
        return func

    return register


def figures(quarter: Quarter, now: datetime | None = None) -> dict[str, dict]:
    """Every registered figure for ``quarter``, in registration order."""
    now = now or utcnow()
    return {name: compute(quarter, now) for name, compute in FIGURES.items()}


@dataclass(frozen=True)
class Snapshot:
    """Every figure of one quarter as computed at ``as_of`` (read-only: it may be shared),
    at the ``FiguresVersion`` the database had then. ``memo`` keeps what is derived from
    these figures alone (the dashboard's HTML of them) for as long as the snapshot is kept."""

    quarter: Quarter
    as_of: datetime
    figures: dict[str, dict]
    version: int = 0
    memo: dict = field(default_factory=dict, compare=False, repr=False)


# --- knowing when the figures changed ---------------------------------------------------------
# What the figures are computed from and the team changes: approvals, asks and their outcomes,
# growth targets, imports (new advocates), points, claims, reviews, seats. A transaction that
# writes any of these raises the version as it commits, so a change made through one app
# instance shows on the next dashboard load of every instance, without recomputing the
# figures on loads that follow no change.
FIGURE_SOURCES = (
    Advocate,
    Ask,
    Board,
    BoardSeat,
    Campaign,
    CampaignParticipation,
    CoverageTarget,
    PointsEntry,
    QueueItem,
    ReviewProof,
    RewardClaim,
    UnmetDemand,
)
_FIGURES_CHANGED = "portal_figures_changed"


def figures_changed(session: Session | None = None) -> None:
    """Mark the current transaction as changing the figures (writes of ``FIGURE_SOURCES``
    are marked without this; for changes made with bulk statements)."""
    (session or db.session()).info[_FIGURES_CHANGED] = True


def figures_version() -> int:
    """The version the figures are at now: one primary-key lookup."""
    return db.session.scalar(select(FiguresVersion.version).where(FiguresVersion.id == 1)) or 0


@event.listens_for(Session, "before_flush")
def _note_figure_writes(session: Session, flush_context, instances) -> None:
    if session.info.get(_FIGURES_CHANGED):
        return
    written = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]
    if any(isinstance(o, FIGURE_SOURCES) for o in written):
        session.info[_FIGURES_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _raise_figures_version(session: Session) -> None:
    # Raised last, right before the commit: the row is locked for the commit alone, after
    # every other lock the transaction takes, so concurrent writers queue but never deadlock.
    # A savepoint's release is not the commit: the transaction may still roll back.
    if session.in_nested_transaction():
        return
    session.flush()
    if not session.info.pop(_FIGURES_CHANGED, False):
        return
    raised = session.execute(
        update(FiguresVersion).where(FiguresVersion.id == 1).values(version=FiguresVersion.version + 1)
    )
    if raised.rowcount:
        return
    try:  # a database built without the migration's row (tests, create_all)
        with session.begin_nested():
            session.add(FiguresVersion(id=1, version=1))
    except IntegrityError:  # another transaction added it at the same moment
        session.execute(
            update(FiguresVersion).where(FiguresVersion.id == 1).values(version=FiguresVersion.version + 1)
        )


@event.listens_for(Session, "after_soft_rollback")
def _forget_figure_writes(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_FIGURES_CHANGED, None)


class RecentFigures:
    """The figures a process computed last, for a few quarters, reused until the figures'
    version changes (a write of the team's, through any app instance) or for at most
    ``max_age`` seconds (a change the version does not cover). Several figures are
    aggregates over every approved advocate or the whole ledger (tens to hundreds of
    milliseconds at 100,000 advocates however they are written); the dashboard says when
    its figures were computed, and costs a handful of queries between recomputations. Only
    plain values are kept (no rows, nothing about who looked), the same for every admin."""

    def __init__(self, size: int = 8):
        self.size = size
        self._lock = threading.Lock()
        self._snapshots: OrderedDict[str, Snapshot] = OrderedDict()

    def get(self, quarter: Quarter, max_age: float, now: datetime | None = None) -> Snapshot:
        now = now or utcnow()
        version = figures_version() if max_age > 0 else 0
        with self._lock:
            kept = self._snapshots.get(quarter.key)
            if (
                kept is not None
                and kept.version == version
                and timedelta(0) <= now - kept.as_of < timedelta(seconds=max_age)
            ):
                self._snapshots.move_to_end(quarter.key)  # the quarter used longest ago goes first
                return kept
        # Computed outside the lock: two requests may both compute, neither waits.
        fresh = Snapshot(quarter, now, figures(quarter, now), version)
        if max_age > 0:
            with self._lock:
                self._snapshots[quarter.key] = fresh
                self._snapshots.move_to_end(quarter.key)
                while len(self._snapshots) > self.size:
                    self._snapshots.popitem(last=False)
        return fresh

    def clear(self) -> None:
        with self._lock:
            self._snapshots.clear()


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _percent(part: int | Decimal, whole: int | Decimal) -> int:
    return round(100 * part / whole) if whole else 0


@figure("funnel")
def nomination_funnel(quarter: Quarter, now: datetime) -> dict:
    """Of the nominations made in the quarter (self, staff or import; not the new records a
    job change makes): how many were verified (reached the team), approved, and became
    active (took part in an ask: accepted or completed it)."""
    # Each nominee with the number of asks they took part in, from one join to their asks
    # (by the advocate's index), instead of a correlated EXISTS per nominee. The status is
    # tested in the count, not the join: a join on it tempts the planner, short of
    # statistics, to intersect every accepted ask's index entry once per nominee.
    took_part = _count_if(Ask.status.in_([AskStatus.ACCEPTED, AskStatus.COMPLETED]))
    nominees = (
        select(Advocate.id, Advocate.submitted_at, Advocate.status, took_part.label("took_part"))
        .outerjoin(Ask, Ask.advocate_id == Advocate.id)
        .where(quarter.contains(Advocate.created_at), Advocate.previous_id.is_(None))
        .group_by(Advocate.id, Advocate.submitted_at, Advocate.status)
        .subquery("nominees")
    )
    approved = nominees.c.status.in_([AdvocateStatus.APPROVED, AdvocateStatus.LAPSED])
    row = db.session.execute(
        select(
            func.count(),
            _count_if(nominees.c.submitted_at.is_not(None)),
            _count_if(approved),
            _count_if(and_(approved, nominees.c.took_part > 0)),
        )
    ).one()
    nominated, verified, approved_count, active = (int(v) for v in row)
    steps = [
        {"label": "Nominated", "value": nominated},
        {"label": "Verified", "value": verified},
        {"label": "Approved", "value": approved_count},
        # Not "Active": the dashboard's "Active advocates" counts every approved advocate by
        # the asks of the quarter, while this step follows the quarter's nominees wherever
        # their asks fall; one word for both read as a contradiction.
        {"label": "Took part in an ask", "value": active},
    ]
    for step in steps:
        step["percent"] = _percent(step["value"], nominated)
    return {"steps": steps}


@figure("activity")
def active_advocates(quarter: Quarter, now: datetime) -> dict:
    """Approved advocates (now), and those who accepted or completed an ask sent in the
    quarter; over- and under-used advocates now (``availability``'s definitions, counted in
    one pass over approved advocates)."""
    counting = availability.Counting(now)
    took_part = (
        select(Ask.advocate_id)
        .where(quarter.contains(Ask.created_at))
        .group_by(Ask.advocate_id)
        .having(_count_if(Ask.status.in_([AskStatus.ACCEPTED, AskStatus.COMPLETED])) > 0)
        .subquery("took_part")
    )
    row = db.session.execute(
        counting.join(
            select(
                func.count(Advocate.id),
                _count_if(took_part.c.advocate_id.is_not(None)),
                _count_if(counting.over_used()),
                _count_if(counting.under_used()),
            ).select_from(Advocate)
        )
        .outerjoin(took_part, took_part.c.advocate_id == Advocate.id)
        .where(Advocate.status == AdvocateStatus.APPROVED)
    ).one()
    approved, active, over_count, under_count = (int(v) for v in row)
    return {"approved": approved, "active": active, "active_percent": _percent(active, approved),
            "over_used": over_count, "under_used": under_count}


@figure("asks")
def asks_and_utilization(quarter: Quarter, now: datetime) -> dict:
    """Asks sent in the quarter by their state now; and how much of the approved advocates'
    quarterly limits those asks used (the limits as they are set today)."""
    by_status = dict(
        db.session.execute(
            select(Ask.status, func.count(Ask.id)).where(quarter.contains(Ask.created_at)).group_by(Ask.status)
        ).all()
    )
    quarter_limit = func.coalesce(AdvocateAvailability.quarter_limit, 0)
    # Each advocate's counting asks in the quarter, grouped once and joined (not a count per
    # approved advocate).
    counted = (
        select(Ask.advocate_id, _count_if(Ask.status.in_(COUNTING_STATUSES)).label("used"))
        .where(quarter.contains(Ask.created_at))
        .group_by(Ask.advocate_id)
        .subquery("counted")
    )
    per_advocate = (
        select(func.coalesce(counted.c.used, 0).label("used"), quarter_limit.label("quota"))
        .select_from(Advocate)
        .outerjoin(counted, counted.c.advocate_id == Advocate.id)
        .outerjoin(AdvocateAvailability, AdvocateAvailability.advocate_id == Advocate.id)
        .where(Advocate.status == AdvocateStatus.APPROVED)
        .subquery()
    )
    bucket = case(
        (per_advocate.c.used == 0, literal("none")),
        (per_advocate.c.used >= per_advocate.c.quota, literal("full")),
        else_=literal("some"),
    )
    buckets = {"none": 0, "some": 0, "full": 0}
    capacity = asked = 0
    for name, advocates, quota, used_sum in db.session.execute(
        select(bucket, func.count(), func.sum(per_advocate.c.quota), func.sum(per_advocate.c.used)).group_by(bucket)
    ):
        buckets[name] = int(advocates)
        capacity += int(quota or 0)
        asked += int(used_sum or 0)
    states = [{"label": s.label, "key": s.value, "value": int(by_status.get(s, 0))} for s in AskStatus]
    return {
        "states": states,
        "sent": sum(s["value"] for s in states),
        "capacity": capacity,
        "used": asked,
        "utilization": _percent(asked, capacity),
        "at_limit": buckets["full"],
        "some": buckets["some"],
        "unasked": buckets["none"],
    }


@figure("revenue")
def revenue_influenced(quarter: Quarter, now: datetime) -> dict:
    """Deals won with an advocate's help: asks completed in the quarter with the outcome
    "won", each deal (opportunity id) counted once at its largest recorded amount."""
    deal = func.coalesce(func.nullif(Ask.opportunity_id, ""), literal("ask-") + cast(Ask.id, String))
    won = (
        select(deal.label("deal"), func.max(Ask.outcome_amount).label("amount"))
        .where(Ask.status == AskStatus.COMPLETED, Ask.outcome == AskOutcome.WON, quarter.contains(Ask.completed_at))
        .group_by(deal)
        .subquery()
    )
    deals, amount = db.session.execute(select(func.count(), func.coalesce(func.sum(won.c.amount), 0))).one()
    completed = db.session.scalar(
        select(func.count(Ask.id)).where(Ask.status == AskStatus.COMPLETED, quarter.contains(Ask.completed_at))
    )
    return {"won_deals": int(deals), "amount": Decimal(amount).quantize(Decimal("0.01")), "completed": int(completed)}


SPENDING = (PointsSource.REWARD_CLAIM, PointsSource.REWARD_REFUND)


@figure("points")
def points_flow(quarter: Quarter, now: datetime) -> dict:
    """From the ledger: points issued in the quarter (awards and manual adjustments), spent
    (claims less refunds), and outstanding at the quarter's end (or now, for this quarter)."""
    in_quarter = quarter.contains(PointsEntry.created_at)
    until = min(quarter.end, now)
    issued, spent, outstanding = db.session.execute(
        select(
            func.coalesce(func.sum(case((and_(in_quarter, PointsEntry.source.not_in(SPENDING)), PointsEntry.points), else_=0)), 0),
            func.coalesce(func.sum(case((and_(in_quarter, PointsEntry.source.in_(SPENDING)), -PointsEntry.points), else_=0)), 0),
            func.coalesce(func.sum(case((PointsEntry.created_at < until, PointsEntry.points), else_=0)), 0),
        )
    ).one()
    from portal.services.rewards import settings as reward_settings

    value = (Decimal(outstanding) * reward_settings().value_per_point).quantize(Decimal("0.01"))
    return {"issued": int(issued), "spent": int(spent), "outstanding": int(outstanding), "value": value}


# Coverage against targets, unmet demand and the programs (campaigns, boards, rewards)
# register their figures too (after these).
from portal.services import coverage, demand, program_figures  # noqa: E402,F401
