"""The points ledger (SPEC §8): every award and spend is an entry with its source; the
balance is the running sum, never negative, and no event is awarded twice.

Appending locks the person's row, so that two awards or spends for one person at the same
moment are written one after the other and each sees the other's balance (PostgreSQL;
SQLite serialises writers anyway). A second award for the same (source, source_id) breaks
the ledger's unique index and is skipped, whoever replays the event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.database import db
from portal.models import Advocate, PointsEntry, PointsSource, User
from portal.models.points import DEFAULT_POINTS
from portal.services.errors import DomainError


class InsufficientPoints(DomainError):
    def __init__(self, balance: int, needed: int):
        super().__init__(f"This needs {needed} points; the balance is {balance}.")
        self.balance = balance
        self.needed = needed


def points_value(source: PointsSource) -> int:
    """What an earning event is worth in this program: the admins' points table
    (``RewardSettings``), else the defaults."""
    from portal.models import RewardSettings

    worth = db.session.scalar(select(getattr(RewardSettings, source.value)).order_by(RewardSettings.id).limit(1))
    return DEFAULT_POINTS[source] if worth is None else worth


def balance(user: User | int) -> int:
    user_id = user if isinstance(user, int) else user.id
    last = db.session.scalar(
        select(PointsEntry.balance_after).where(PointsEntry.user_id == user_id).order_by(PointsEntry.id.desc()).limit(1)
    )
    return last or 0


def _lock_person(user_id: int) -> None:
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


def _append(
    user_id: int,
    points: int,
    source: PointsSource,
    source_id: int | None,
    advocate_id: int | None,
    actor: User | None,
    reason: str,
) -> PointsEntry:
    _lock_person(user_id)
    current = balance(user_id)
    if current + points < 0:
        raise InsufficientPoints(current, -points)
    entry = PointsEntry(
        user_id=user_id,
        advocate_id=advocate_id,
        points=points,
        balance_after=current + points,
        source=source,
        source_id=source_id,
        actor_id=actor.id if actor is not None else None,
        reason=reason,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def award(
    advocate: Advocate,
    source: PointsSource,
    source_id: int,
    *,
    points: int | None = None,
    actor: User | None = None,
    reason: str = "",
) -> PointsEntry | None:
    """Award the points an event earns, once. Returns None when the event was awarded
    before (a replay) or is worth nothing in this program."""
    value = points_value(source) if points is None else points
    if value == 0:
        return None
    try:
        with db.session.begin_nested():
            return _append(advocate.user_id, value, source, source_id, advocate.id, actor, reason)
    except IntegrityError:
        return None


def spend(
    advocate: Advocate, points: int, source: PointsSource, source_id: int, *, actor: User | None = None, reason: str = ""
) -> PointsEntry:
    """Take ``points`` (> 0) for a claim; raises ``InsufficientPoints`` and writes nothing
    when the balance does not cover them."""
    if points <= 0:
        raise ValueError("spend a positive number of points")
    return _append(advocate.user_id, -points, source, source_id, advocate.id, actor, reason)


def adjust(actor: User, advocate: Advocate, points: int, reason: str) -> PointsEntry:
    """An admin's manual award (points > 0) or deduction (< 0), always with a reason."""
    reason = reason.strip()
    if not reason:
        raise DomainError("Give a reason: the advocate sees it in their points history.", field="reason")
    if points == 0:
        raise DomainError("Enter a number of points other than zero.", field="points")
    return _append(advocate.user_id, points, PointsSource.MANUAL, None, advocate.id, actor, reason)


def history(user: User):
    """The query for a person's entries, newest first (paginate it)."""
    return select(PointsEntry).where(PointsEntry.user_id == user.id).order_by(PointsEntry.id.desc())
