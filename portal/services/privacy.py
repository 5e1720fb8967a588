"""Privacy self-service: everything held about a person, and erasure that keeps the
program's aggregate numbers right."""

from __future__ import annotations

import json
import re

from sqlalchemy import JSON, Text, cast, delete, or_, select, update

from portal.database import contains_text, db, utcnow
from portal.models import (
    Advocate,
    AdvocateStatus,
    Ask,
    AuditEvent,
    Blackout,
    BoardSeat,
    CampaignParticipation,
    ConsentChange,
    ImportBatch,
    Notification,
    OutboxMessage,
    OutboxStatus,
    PointsEntry,
    ProfileChange,
    QueueItem,
    ReviewProof,
    RewardClaim,
    User,
    UserIdentity,
)
from portal.services import approvals, audit, boards, campaigns, consent
from portal.services.errors import DomainError
from portal.services.taxonomy import country_names

# Shown on /privacy: what survives an erasure, and why. Everything else written by or about
# the person is deleted or cleared (tests/services/test_erasure.py scans every text column).
KEPT_AFTER_ERASURE = [
    "Your company, industry and country on an anonymous record, so that the program's "
    "counts (how many advocates, in which industries and regions) stay correct.",
    "The dates of decisions and of consent changes, without your name, as proof that the "
    "program only used data with consent.",
    "Points you earned and spent, on the anonymous record, so that the program's totals and "
    "budget stay correct; reward claims keep their points and value (stock and the gift "
    "budget need them), without the charity you chose or where they were sent.",
    "Asks you received, with their type, dates, outcome and the prospect company (the "
    "seller's deal, not your data), so that revenue-influenced figures stay correct; their "
    "notes and your reasons are cleared.",
    "Advisory board seats and review campaign participations as dates and statuses, so that "
    "seat fill and campaign progress stay correct; your seat is ended and offered to the "
    "waitlist, and motivations, review links and tracking links are cleared.",
    "The audit trail of who decided what and when, with your name, email address and texts "
    "replaced by \u201c[erased]\u201d, because the program must be able to show its decisions.",
]

ERASED = "[erased]"
# A name shorter than this is too common a string to look for in other people's records;
# the email address still finds them.
MIN_SEARCHED_NAME = 3


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


def _their_texts(user: User, advocate_ids: list[int]) -> list[str]:
    """Everything the person wrote, or was written about them, that could have been copied
    into another record (a summary, an email, an audit entry): looked for there and replaced."""
    texts = [user.name, user.email, user.display_name or ""]
    for advocate in db.session.scalars(select(Advocate).where(Advocate.id.in_(advocate_ids))):
        texts += [advocate.job_title, advocate.department, advocate.story, advocate.nomination_reason, advocate.phone]
    for column, owner in (
        (BoardSeat.motivation, BoardSeat.advocate_id),
        (Ask.notes, Ask.advocate_id),
        (Ask.decline_reason, Ask.advocate_id),
        (Ask.override_reason, Ask.advocate_id),
        (Blackout.note, Blackout.advocate_id),
    ):
        texts += db.session.scalars(select(column).where(owner.in_(advocate_ids)))
    for proof in db.session.scalars(
        select(ReviewProof).join(ReviewProof.participation).where(CampaignParticipation.advocate_id.in_(advocate_ids))
    ):
        texts += [proof.review_url, proof.note, proof.reason]
    for claim in db.session.scalars(select(RewardClaim).where(RewardClaim.user_id == user.id)):
        texts += [claim.charity or "", claim.delivery_note, claim.reason]
    texts += db.session.scalars(select(PointsEntry.reason).where(PointsEntry.user_id == user.id))
    # Longest first, so that a text is replaced before a shorter one inside it.
    return sorted({t.strip() for t in texts if t and len(t.strip()) >= MIN_SEARCHED_NAME}, key=len, reverse=True)


def _scrubbed(value, texts: list[str]):
    """``value`` (text, or JSON of lists and dicts) with every one of ``texts`` replaced."""
    if isinstance(value, str):
        for text in texts:
            value = re.sub(rf"(?<!\w){re.escape(text)}(?!\w)", ERASED, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [_scrubbed(v, texts) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, texts) for k, v in value.items()}
    return value


def _mentioning(columns, identity: list[str]):
    """A condition: any of ``columns`` contains any of ``identity`` (JSON read as its text,
    where a non-ASCII name is stored escaped)."""
    conditions = []
    for column in columns:
        target = cast(column, Text) if isinstance(column.type, JSON) else column
        for text in identity:
            conditions += [contains_text(target, text), contains_text(target, json.dumps(text)[1:-1])]
    return or_(*conditions)


def _scrub_others(user: User, advocate_ids: list[int], texts: list[str]) -> None:
    """What the team's records say about the person (audit entries, the queue, notifications
    and emails to others, uploaded spreadsheets) keeps its facts but loses their name, email
    address and words."""
    identity = [t for t in (user.email, user.name) if len(t) >= MIN_SEARCHED_NAME]
    about_them = or_(
        (AuditEvent.subject_type == "users") & (AuditEvent.subject_id == user.id),
        (AuditEvent.subject_type == "advocates") & AuditEvent.subject_id.in_(advocate_ids),
        _mentioning([AuditEvent.summary, AuditEvent.details], identity),
    )
    for event in db.session.scalars(select(AuditEvent).where(about_them)):
        event.summary, event.details = _scrubbed(event.summary, texts), _scrubbed(event.details, texts)
    for item in db.session.scalars(
        select(QueueItem).where(or_(QueueItem.advocate_id.in_(advocate_ids), _mentioning([QueueItem.summary, QueueItem.reason], identity)))
    ):
        item.summary, item.reason = _scrubbed(item.summary, texts), _scrubbed(item.reason, texts)
    for note in db.session.scalars(select(Notification).where(_mentioning([Notification.title, Notification.body], identity))):
        note.title, note.body = _scrubbed(note.title, texts), _scrubbed(note.body, texts)
    for message in db.session.scalars(
        select(OutboxMessage).where(_mentioning([OutboxMessage.subject, OutboxMessage.payload], identity))
    ):
        message.subject, message.payload = _scrubbed(message.subject, texts), _scrubbed(message.payload, texts)
    # An imported spreadsheet keeps the other people's rows.
    for batch in db.session.scalars(select(ImportBatch).where(_mentioning([ImportBatch.content], [user.email]))):
        batch.content = "".join(
            line for line in batch.content.splitlines(keepends=True) if user.email not in line.lower()
        )


def erase_account(actor: User, user: User) -> None:
    """Erase ``user``'s personal data. Records the program counts on stay, anonymous
    (``KEPT_AFTER_ERASURE``)."""
    if actor.id != user.id:
        raise DomainError("Only you can delete your account.")
    if user.is_team:
        raise DomainError("Team accounts are closed by an admin.")
    email = user.email
    advocate_ids = list(db.session.scalars(select(Advocate.id).where(Advocate.user_id == user.id)))
    texts = _their_texts(user, advocate_ids)
    campaigns.erase_for(advocate_ids)
    boards.erase_for(advocate_ids)
    if advocate_ids:
        their_asks = Ask.advocate_id.in_(advocate_ids)
        db.session.execute(update(Ask).where(their_asks).values(notes="", decline_reason=""))
        # Overridden stays recorded (not NULL); the words go.
        db.session.execute(update(Ask).where(their_asks, Ask.override_reason.is_not(None)).values(override_reason=""))
        db.session.execute(delete(Blackout).where(Blackout.advocate_id.in_(advocate_ids)))
    _scrub_others(user, advocate_ids, texts)
    for advocate in db.session.scalars(select(Advocate).where(Advocate.user_id == user.id)):
        if advocate.is_current:
            consent.end_all(advocate, ConsentChange.ERASED, None, "account deleted")
        approvals.withdraw_open_items(advocate)
        advocate.status = AdvocateStatus.ERASED
        advocate.job_title = ""
        advocate.department = ""
        advocate.story = ""
        advocate.nomination_reason = ""
        advocate.phone = ""
        advocate.languages = []
        advocate.time_zone = "UTC"
        advocate.seniority = None
        advocate.products = []
        advocate.use_cases = []
        advocate.activity_types = []
        db.session.execute(delete(ProfileChange).where(ProfileChange.advocate_id == advocate.id))
    db.session.execute(update(QueueItem).where(QueueItem.advocate_id.in_(advocate_ids)).values(summary="", reason=""))
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    # The link to their identity at a sign-in provider (whose subject may be their address).
    db.session.execute(delete(UserIdentity).where(UserIdentity.user_id == user.id))
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
    # Claims stay (the ledger and stock need them) without where they were sent, the charity
    # chosen or what the team wrote; ledger entries keep their points, not the reasons.
    db.session.execute(
        update(RewardClaim).where(RewardClaim.user_id == user.id).values(delivery_note="", charity=None, reason="")
    )
    db.session.execute(update(PointsEntry).where(PointsEntry.user_id == user.id).values(reason=""))
    user.leaderboard_opt_in = False  # erased people never show on the leaderboard
    user.display_name = None
    user.sign_in_generation += 1
    db.session.flush()
    audit.record(None, "person.erased", user, f"Person #{user.id} deleted their account")

