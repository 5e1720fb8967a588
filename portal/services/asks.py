"""Asks to advocates, where the contact rules are enforced.

Creating an ask locks the advocate's row first, so that two asks made at the same moment
are decided one after the other and a last free slot is given only once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update

from portal.database import db, utcnow
from portal.models import (
    ActivityType,
    Advocate,
    Ask,
    AskOutcome,
    AskStatus,
    NotificationCategory,
    PointsSource,
    Role,
    User,
)
from portal.services import audit, availability, points
from portal.services.contact_rules import Verdict
from portal.services.errors import DomainError
from portal.services.notify import notify


class AskRefused(DomainError):
    """The rules refuse the ask; ``verdict`` says why and from when it would be allowed."""

    def __init__(self, verdict: Verdict):
        super().__init__(" ".join(r.message for r in verdict.refusals))
        self.verdict = verdict


@dataclass
class AskContext:
    prospect_company: str
    due_on: date
    opportunity_id: str = ""
    deal_size: Decimal | None = None
    notes: str = ""
    reference_request_id: int | None = None


def create_ask(
    actor: User,
    advocate_id: int,
    activity_type: ActivityType,
    context: AskContext,
    override_reason: str | None = None,
) -> Ask:
    """Send an ask, or raise ``AskRefused``. Only an admin may override a refusal, and only
    with a written reason, which is audited and shown on the advocate's record."""
    if actor.role is not Role.ADMIN:
        raise DomainError("Only the advocacy team sends asks; staff request references at /staff/requests.")
    if not context.prospect_company.strip():
        raise DomainError("Name the prospect the ask is for.", field="prospect_company")
    now = utcnow()
    if context.due_on < now.date():
        raise DomainError("The due date is in the past.", field="due_on")
    # The row lock serialises asks to one advocate: the count below sees every earlier one,
    # and the row is read afresh with the lock (populate_existing), not from the identity map.
    advocate = db.session.execute(
        select(Advocate)
        .where(Advocate.id == advocate_id)
        .with_for_update(of=Advocate)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if advocate is None:
        raise DomainError("No such advocate.", field="advocate_id")
    verdict = availability.check(advocate, activity_type, now)
    override_reason = (override_reason or "").strip() or None
    if not verdict.allowed and override_reason is None:
        raise AskRefused(verdict)
    ask = Ask(
        advocate=advocate,
        activity_type=activity_type,
        created_by_id=actor.id,
        prospect_company=context.prospect_company.strip(),
        opportunity_id=context.opportunity_id.strip(),
        deal_size=context.deal_size,
        due_on=context.due_on,
        notes=context.notes.strip(),
        override_reason=override_reason if not verdict.allowed else None,
        created_at=now,
        reference_request_id=context.reference_request_id,
    )
    db.session.add(ask)
    db.session.flush()
    if not verdict.allowed:
        audit.record(
            actor,
            "ask.override",
            ask,
            f"Sent ask #{ask.id} to advocate #{advocate.id} despite the rules",
            reason=override_reason,
            refusals=[r.message for r in verdict.refusals],
            advocate_id=advocate.id,
        )
    audit.record(actor, "ask.sent", ask, f"Asked advocate #{advocate.id} for {activity_type.name}", advocate_id=advocate.id)
    notify(
        advocate.user,
        NotificationCategory.REQUESTS,
        f"New request: {activity_type.name} for {ask.prospect_company}",
        f"Please answer by {ask.due_on:%-d %B %Y}.",
        link_endpoint="advocate.asks",
    )
    return ask


def _transition(ask: Ask, allowed_from: tuple[AskStatus, ...], **values) -> None:
    """Compare-and-set on the status, so two answers at once cannot both win."""
    done = db.session.execute(
        update(Ask)
        .where(Ask.id == ask.id, Ask.status.in_(allowed_from))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.refresh(ask)
        raise DomainError(f"This ask is {ask.status.label.lower()} and cannot change that way.")
    db.session.refresh(ask)


def respond(actor: User, ask: Ask, accept: bool, reason: str = "") -> None:
    if ask.advocate.user_id != actor.id:
        raise DomainError("Only the advocate asked can answer.")
    _transition(
        ask,
        (AskStatus.SENT,),
        status=AskStatus.ACCEPTED if accept else AskStatus.DECLINED,
        responded_at=utcnow(),
        decline_reason="" if accept else reason.strip()[:2000],
    )
    audit.record(actor, "ask.accepted" if accept else "ask.declined", ask, f"Advocate answered ask #{ask.id}")
    if accept:
        points.award(ask.advocate, PointsSource.ASK_ACCEPTED, ask.id, actor=actor)


def withdraw(actor: User, ask: Ask) -> None:
    if not actor.is_team:
        raise DomainError("Only the team can withdraw an ask.")
    _transition(ask, (AskStatus.SENT, AskStatus.ACCEPTED), status=AskStatus.WITHDRAWN)
    audit.record(actor, "ask.withdrawn", ask, f"Withdrew ask #{ask.id}")
    notify(
        ask.advocate.user,
        NotificationCategory.REQUESTS,
        f"Request withdrawn: {ask.activity_type.name} for {ask.prospect_company}",
        "No action is needed from you.",
        link_endpoint="advocate.asks",
    )


def complete(actor: User, ask: Ask, outcome: AskOutcome, amount: Decimal | None) -> None:
    if actor.role is not Role.ADMIN:
        raise DomainError("Only the advocacy team records outcomes.")
    if amount is not None and amount < 0:
        raise DomainError("The amount cannot be negative.", field="outcome_amount")
    _transition(
        ask, (AskStatus.ACCEPTED,), status=AskStatus.COMPLETED, completed_at=utcnow(), outcome=outcome, outcome_amount=amount
    )
    audit.record(actor, "ask.completed", ask, f"Completed ask #{ask.id}: {outcome.value}", amount=str(amount or ""))
    points.award(ask.advocate, PointsSource.ASK_COMPLETED, ask.id, actor=actor)


def expire_overdue(today: date | None = None) -> int:
    """Asks nobody answered by their due date expire (they still count: the advocate was asked)."""
    today = today or utcnow().date()
    result = db.session.execute(
        update(Ask).where(Ask.status == AskStatus.SENT, Ask.due_on < today).values(status=AskStatus.EXPIRED)
    )
    return result.rowcount
