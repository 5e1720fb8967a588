"""The approval queue: one mechanism for every decision the advocacy team makes.

Each kind registers a handler that applies the decision to its subject. Deciding is a
compare-and-set on the item's status, so an item is decided exactly once even when two
admins click at the same moment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, select, update

from portal.database import db, utcnow
from portal.models import Advocate, NotificationCategory, QueueItem, QueueKind, QueueStatus, Role, User
from portal.services import audit
from portal.services.errors import DomainError
from portal.services.notify import notify

# A handler applies the decision and returns who to tell, and what.
Handler = Callable[..., tuple[User, str]]
_HANDLERS: dict[QueueKind, Handler] = {}


@dataclass(frozen=True)
class ExtraOutcome:
    """A kind's third way to decide besides approve and reject (a board application can be
    waitlisted). The item is decided (status ``DEFERRED``) and leaves the queue; what
    happens later (a waitlisted applicant offered a freed seat) is the kind's own business."""

    name: str  # the button's value, e.g. "waitlist"
    label: str  # the button, e.g. "Waitlist"
    past: str  # for the audit trail and messages, e.g. "waitlisted"


_EXTRAS: dict[QueueKind, ExtraOutcome] = {}


def handles(kind: QueueKind, extra: ExtraOutcome | None = None):
    """Register ``func(actor, item, approve, reason) -> (person to tell, title)``. A kind
    with an ``extra`` outcome gets ``func(..., extra=name)`` when it is chosen (and
    ``approve`` False)."""

    def register(func: Handler) -> Handler:
        _HANDLERS[kind] = func
        if extra is not None:
            _EXTRAS[kind] = extra
        return func

    return register


def extra_outcome(kind: QueueKind) -> ExtraOutcome | None:
    return _EXTRAS.get(kind)


def open_item(kind: QueueKind, advocate: Advocate | None, subject_id: int, summary: str = "") -> QueueItem:
    item = QueueItem(kind=kind, advocate=advocate, subject_id=subject_id, summary=summary)
    db.session.add(item)
    db.session.flush()
    return item


def withdraw_open_items(advocate: Advocate, kind: QueueKind | None = None) -> None:
    """The subject went away (superseded, moved, erased): its open items need no decision."""
    query = update(QueueItem).where(QueueItem.advocate_id == advocate.id, QueueItem.status == QueueStatus.OPEN)
    if kind is not None:
        query = query.where(QueueItem.kind == kind)
    db.session.execute(query.values(status=QueueStatus.WITHDRAWN, decided_at=utcnow()))


def decide(actor: User, item: QueueItem, approve: bool, reason: str = "", extra: str | None = None) -> None:
    """Decide an item once. All or nothing: when the kind's rules refuse, the item stays open.
    ``extra`` names the kind's own third outcome (see ``ExtraOutcome``) instead."""
    reason = reason.strip()
    outcome = _EXTRAS.get(item.kind) if extra else None
    if extra and (outcome is None or outcome.name != extra):
        raise DomainError(f"A {item.kind.label.lower()} cannot be decided that way.")
    if outcome is not None:
        approve = False
        status = QueueStatus.DEFERRED
    elif not approve and not reason:
        raise DomainError("Give a reason: it is sent to the customer.", field="reason")
    else:
        status = QueueStatus.APPROVED if approve else QueueStatus.REJECTED
    with db.session.begin_nested():
        claimed = db.session.execute(
            update(QueueItem)
            .where(QueueItem.id == item.id, QueueItem.status == QueueStatus.OPEN)
            .values(
                status=status,
                decided_at=utcnow(),
                decided_by_id=actor.id,
                reason=reason,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            raise DomainError("This item has already been decided.")
        db.session.refresh(item)
        handler = _HANDLERS[item.kind]
        if outcome is not None:
            recipient, title = handler(actor, item, False, reason, extra=outcome.name)
        else:
            recipient, title = handler(actor, item, approve, reason)
    db.session.refresh(item)
    verb = outcome.past if outcome is not None else "approved" if approve else "rejected"
    audit.record(
        actor,
        f"queue.{item.kind.value}.{verb}",
        item,
        f"{item.kind.label} #{item.subject_id} {verb}",
        advocate_id=item.advocate_id,
        reason=reason,
    )
    body = f"Reason from the advocacy team: {reason}" if reason else ""
    link = "advocate.home" if recipient.role is Role.ADVOCATE else "staff.requests"
    notify(recipient, NotificationCategory.DECISIONS, title, body, link_endpoint=link)


@dataclass
class BulkResult:
    decided: int
    skipped: list[str]


def decide_many(actor: User, item_ids: list[int], approve: bool, reason: str = "") -> BulkResult:
    """Decide several items; any that cannot be decided (already decided, say) are skipped
    and reported, without undoing the others."""
    if not item_ids:
        raise DomainError("Select at least one item.", field="item_ids")
    if not approve and not reason.strip():
        raise DomainError("Give a reason: it is sent to the customer.", field="reason")
    items = db.session.scalars(select(QueueItem).where(QueueItem.id.in_(item_ids)).order_by(QueueItem.id)).all()
    decided, skipped = 0, []
    for item in items:
        try:
            with db.session.begin_nested():
                decide(actor, item, approve, reason)
            decided += 1
        except DomainError as exc:
            skipped.append(f"#{item.id}: {exc.message}")
    return BulkResult(decided, skipped)


# --- listing --------------------------------------------------------------------------------

SORTS = {
    "oldest": QueueItem.created_at.asc(),
    "newest": QueueItem.created_at.desc(),
}


def flag_age() -> timedelta:
    return timedelta(days=current_app.config["QUEUE_FLAG_DAYS"])


def is_overdue(item: QueueItem) -> bool:
    return item.status is QueueStatus.OPEN and utcnow() - item.created_at > flag_age()


def queue_query(
    kind: QueueKind | None = None,
    status: QueueStatus = QueueStatus.OPEN,
    older_than_days: int | None = None,
    sort: str = "oldest",
) -> Select:
    query = select(QueueItem).where(QueueItem.status == status)
    if kind is not None:
        query = query.where(QueueItem.kind == kind)
    if older_than_days is not None:
        query = query.where(QueueItem.created_at < utcnow() - timedelta(days=older_than_days))
    return query.order_by(SORTS.get(sort, SORTS["oldest"]), QueueItem.id)

