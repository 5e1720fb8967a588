"""Privacy self-service: everything held about a person, and erasure that keeps the
program's aggregate numbers right."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from portal.database import db, utcnow
from portal.models import (
    Advocate,
    AdvocateStatus,
    ConsentChange,
    Notification,
    OutboxMessage,
    OutboxStatus,
    PointsEntry,
    ProfileChange,
    QueueItem,
    RewardClaim,
    User,
)
from portal.services import approvals, audit, campaigns, consent
from portal.services.errors import DomainError
from portal.services.taxonomy import country_names

# Shown on /privacy: what survives an erasure, and why.
KEPT_AFTER_ERASURE = [
    "Your company, industry and country on an anonymous record, so that the program's "
    "counts (how many advocates, in which industries and regions) stay correct.",
    "The dates of decisions and of consent changes, without your name, as proof that the "
    "program only used data with consent.",
    "Points you earned and spent, on the anonymous record, so that the program's totals and "
    "budget stay correct.",
]


def _iso(value):
    return value.isoformat() if value else None


def export_data(user: User) -> dict:
    """Everything the portal holds about ``user``, as JSON-ready data."""
    advocates = db.session.scalars(select(Advocate).where(Advocate.user_id == user.id).order_by(Advocate.id)).all()
    advocate_ids = [a.id for a in advocates]
    countries = country_names()
    return {
        "exported_at": _iso(utcnow()),
        "person": {
            "name": user.name,
            "email": user.email,
            "role": user.role.value,
            "created_at": _iso(user.created_at),
            "last_sign_in_at": _iso(user.last_sign_in_at),
            "email_preferences": user.email_preferences or {},
            "leaderboard_opt_in": user.leaderboard_opt_in,
            "leaderboard_display_name": user.display_name,
        },
        "memberships": [
            {
                "id": a.id,
                "company": a.account.name,
                "status": a.status.value,
                "source": a.source.value,
                "nomination_reason": a.nomination_reason,
                "job_title": a.job_title,
                "seniority": a.seniority.value if a.seniority else None,
                "department": a.department,
                "industry": a.industry.name if a.industry else None,
                "country": countries.get(a.country, a.country) if a.country else None,
                "languages": a.languages,
                "time_zone": a.time_zone,
                "story": a.story,
                "products": [t.name for t in a.products],
                "use_cases": [t.name for t in a.use_cases],
                "open_to": [t.name for t in a.activity_types],
                "created_at": _iso(a.created_at),
                "last_confirmed_at": _iso(a.last_confirmed_at),
                "consents": [
                    {
                        "purpose": e.purpose.value,
                        "change": e.change.value,
                        "wording_version": e.wording_version,
                        "wording": (consent.wording(e.purpose, e.wording_version) or consent.current_wording(e.purpose)).text,
                        "at": _iso(e.created_at),
                    }
                    for e in reversed(consent.history(a))
                ],
                "profile_changes": [
                    {"changes": c.changes, "status": c.status.value, "at": _iso(c.created_at)}
                    for c in db.session.scalars(select(ProfileChange).where(ProfileChange.advocate_id == a.id))
                ],
            }
            for a in advocates
        ],
        "decisions": [
            {
                "kind": q.kind.value,
                "status": q.status.value,
                "reason": q.reason,
                "created_at": _iso(q.created_at),
                "decided_at": _iso(q.decided_at),
            }
            for q in db.session.scalars(
                select(QueueItem).where(QueueItem.advocate_id.in_(advocate_ids)).order_by(QueueItem.id)
            )
        ]
        if advocate_ids
        else [],
        "review_campaigns": campaigns.export_for(advocate_ids),
        "points": [
            {"points": e.points, "balance_after": e.balance_after, "source": e.source.value, "reason": e.reason,
             "at": _iso(e.created_at)}
            for e in db.session.scalars(select(PointsEntry).where(PointsEntry.user_id == user.id).order_by(PointsEntry.id))
        ],
        "reward_claims": [
            {"reward": c.reward.name, "status": c.status.value, "points": c.points, "value": str(c.monetary_value),
             "charity": c.charity, "delivery_note": c.delivery_note, "at": _iso(c.created_at)}
            for c in db.session.scalars(select(RewardClaim).where(RewardClaim.user_id == user.id).order_by(RewardClaim.id))
        ],
        "notifications": [
            {"title": n.title, "body": n.body, "at": _iso(n.created_at), "read_at": _iso(n.read_at)}
            for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
        ],
        "emails": [
            {"subject": m.subject, "status": m.status.value, "queued_at": _iso(m.created_at), "sent_at": _iso(m.sent_at)}
            for m in db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.recipient == user.email).order_by(OutboxMessage.id)
            )
        ],
    }


def erase_account(actor: User, user: User) -> None:
    """Erase ``user``'s personal data. Records the program counts on stay, anonymous."""
    if actor.id != user.id:
        raise DomainError("Only you can delete your account.")
    if user.is_team:
        raise DomainError("Team accounts are closed by an admin.")
    email = user.email
    campaigns.erase_for(list(db.session.scalars(select(Advocate.id).where(Advocate.user_id == user.id))))
    for advocate in db.session.scalars(select(Advocate).where(Advocate.user_id == user.id)):
        if advocate.is_current:
            consent.end_all(advocate, ConsentChange.ERASED, None, "account deleted")
        approvals.withdraw_open_items(advocate)
        advocate.status = AdvocateStatus.ERASED
        advocate.job_title = ""
        advocate.department = ""
        advocate.story = ""
        advocate.nomination_reason = ""
        advocate.languages = []
        advocate.time_zone = "UTC"
        advocate.seniority = None
        advocate.products = []
        advocate.use_cases = []
        advocate.activity_types = []
        db.session.execute(delete(ProfileChange).where(ProfileChange.advocate_id == advocate.id))
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    # Emails still waiting are not sent; sent ones keep only their date and status.
    db.session.execute(
        delete(OutboxMessage).where(OutboxMessage.recipient == email, OutboxMessage.status == OutboxStatus.PENDING)
    )
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)):
        message.recipient = None
        message.subject = "(erased)"
        message.payload = {}
    user.email = f"erased-{user.id}@erased.invalid"
    user.name = "Deleted advocate"
    user.active = False
    user.password_hash = None
    user.email_preferences = {}
    # Claims stay (the ledger and stock need them) without where they were sent.
    db.session.execute(update(RewardClaim).where(RewardClaim.user_id == user.id).values(delivery_note=""))
    user.leaderboard_opt_in = False  # erased people never show on the leaderboard
    user.display_name = None
    user.sign_in_generation += 1
    db.session.flush()
    audit.record(None, "person.erased", user, f"Person #{user.id} deleted their account")

