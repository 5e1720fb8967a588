"""Peer-review campaigns (SPEC §7).

The platforms' incentive rules are built in here: the incentive is the same for every
verified review whatever its rating or sentiment (a proof never carries a rating); a
campaign's gift per review never exceeds its platform's cap; advocates whose account allows
no gifts take part without one (and are told before joining); invitations go by product,
industry and region through the directory's filters, never by satisfaction.

A participation moves invited → joined → submitted → verified, or → rejected and back to
submitted with new proof. Sending proof locks the participation's row, so two proofs sent
at once are decided one after the other; partial unique indexes keep one proof waiting and
one verified review per participation (and so per advocate per campaign)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

from sqlalchemy import Select, delete, func, select, update
from werkzeug.datastructures import FileStorage

from portal.database import db, utcnow
from portal.money import format_money
from portal.models import (
    Advocate,
    AdvocateStatus,
    Campaign,
    CampaignParticipation,
    GiftPolicy,
    Incentive,
    NotificationCategory,
    ParticipationStatus,
    PlatformIncentiveCap,
    PointsSource,
    ProofStatus,
    QueueItem,
    QueueKind,
    ReviewPlatform,
    ReviewProof,
    Role,
    Upload,
    User,
)
from portal.models.campaigns import new_token
from portal.services import approvals, audit, availability, directory, points, uploads
from portal.services.errors import DomainError
from portal.services.notify import notify

# Stated on the campaign page and in the team's campaign form.
RATING_RULE = (
    "The reward never depends on the review's rating or sentiment: an honest critical review "
    "earns exactly what a glowing one does."
)

# Incentives must be of nominal value: the FTC's endorsement guides and Gartner Peer
# Insights' policy put that at $25 per review; the other platforms' programs follow the same
# figure. Admins may lower (or, where a platform allows, raise) them at /admin/campaigns/caps.
DEFAULT_CAPS = {platform: Decimal("25.00") for platform in ReviewPlatform}


def caps() -> dict[ReviewPlatform, Decimal]:
    saved = {c.platform: c.max_gift_value for c in db.session.scalars(select(PlatformIncentiveCap))}
    return {platform: saved.get(platform, DEFAULT_CAPS[platform]) for platform in ReviewPlatform}


def save_caps(actor: User, values: dict[ReviewPlatform, Decimal]) -> None:
    if actor.role is not Role.ADMIN:
        raise DomainError("Only admins set the incentive caps.")
    for platform, value in values.items():
        if value is None or value < 0:
            raise DomainError("Enter an amount of 0 or more.", field=platform.value)
        row = db.session.get(PlatformIncentiveCap, platform)
        if row is None:
            db.session.add(PlatformIncentiveCap(platform=platform, max_gift_value=value))
        else:
            row.max_gift_value = value
    db.session.flush()
    audit.record(actor, "campaign.caps", None, "Changed the incentive caps per platform",
                 caps={p.value: str(v) for p, v in values.items()})


def is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


@dataclass
class CampaignDetails:
    name: str
    platform: ReviewPlatform
    review_url: str
    starts_on: date
    ends_on: date
    target_count: int
    points_per_review: int
    gift_value: Decimal = Decimal("0")
    instructions: str = ""
    product_ids: list[int] = field(default_factory=list)
    industry_ids: list[int] = field(default_factory=list)
    region_ids: list[int] = field(default_factory=list)


def save_campaign(actor: User, campaign: Campaign | None, details: CampaignDetails) -> Campaign:
    """Create (``campaign`` None) or edit a campaign; refuses a gift above the platform's cap."""
    if actor.role is not Role.ADMIN:
        raise DomainError("Only the advocacy team runs campaigns.")
    if not details.name.strip():
        raise DomainError("Name the campaign.", field="name")
    url = details.review_url.strip()
    if not is_web_url(url):
        raise DomainError("Enter the platform's review page as an http:// or https:// address.", field="review_url")
    if details.ends_on < details.starts_on:
        raise DomainError("The campaign must end on or after the day it starts.", field="ends_on")
    if details.target_count < 1:
        raise DomainError("Aim for at least one review.", field="target_count")
    if details.points_per_review < 0:
        raise DomainError("Points cannot be negative.", field="points_per_review")
    gift = details.gift_value or Decimal("0")
    if gift < 0:
        raise DomainError("The gift cannot be negative.", field="gift_value")
    cap = caps()[details.platform]
    if gift > cap:
        raise DomainError(
            f"{details.platform.label} allows incentives of at most {format_money(cap)} per review: lower the gift.",
            field="gift_value",
        )
    created = campaign is None
    if campaign is None:
        campaign = Campaign(created_by_id=actor.id)
        db.session.add(campaign)
    campaign.name = details.name.strip()
    campaign.platform = details.platform
    campaign.review_url = url
    campaign.starts_on = details.starts_on
    campaign.ends_on = details.ends_on
    campaign.target_count = details.target_count
    campaign.points_per_review = details.points_per_review
    campaign.gift_value = gift
    campaign.instructions = details.instructions.strip()
    campaign.product_ids = sorted(set(details.product_ids))
    campaign.industry_ids = sorted(set(details.industry_ids))
    campaign.region_ids = sorted(set(details.region_ids))
    db.session.flush()
    audit.record(actor, "campaign.created" if created else "campaign.edited", campaign, f"Campaign “{campaign.name}”")
    return campaign


# --- invitations ----------------------------------------------------------------------------


def matching_advocates(campaign: Campaign) -> Select:
    """Approved advocates who fit the campaign's criteria (the directory's filters)."""
    return directory.search(
        directory.Filters(
            statuses=[AdvocateStatus.APPROVED],
            product_ids=list(campaign.product_ids),
            industry_ids=list(campaign.industry_ids),
            region_ids=list(campaign.region_ids),
        )
    )


def _not_yet_invited(campaign: Campaign) -> Select:
    """Fitting advocates not invited yet, leaving out whoever is paused or away now: they
    are invited by a later click, once back."""
    already = select(CampaignParticipation.advocate_id).where(CampaignParticipation.campaign_id == campaign.id)
    return matching_advocates(campaign).where(Advocate.id.not_in(already), availability.reachable_condition())


def count_to_invite(campaign: Campaign) -> int:
    return db.session.scalar(select(func.count()).select_from(_not_yet_invited(campaign).order_by(None).subquery()))


def invite(actor: User, campaign: Campaign) -> int:
    """Invite every fitting advocate not invited yet; returns how many were invited."""
    if actor.role is not Role.ADMIN:
        raise DomainError("Only the advocacy team sends invitations.")
    if campaign.ends_on < utcnow().date():
        raise DomainError("This campaign has ended: nobody can join it any more.")
    # Serialise invitations to one campaign: two admins clicking at once invite each person once.
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    advocates = db.session.scalars(_not_yet_invited(campaign)).all()
    for advocate in advocates:
        db.session.add(CampaignParticipation(campaign=campaign, advocate=advocate))
    db.session.flush()
    for advocate in advocates:
        notify(
            advocate.user,
            NotificationCategory.PROGRAMS,
            f"You are invited: review us on {campaign.platform.label}",
            f"“{campaign.name}” runs until {campaign.ends_on:%-d %B %Y}. {RATING_RULE}",
            link_endpoint="campaigns.detail",
            campaign_id=campaign.id,
        )
    audit.record(actor, "campaign.invited", campaign, f"Invited {len(advocates)} advocate(s) to “{campaign.name}”")
    return len(advocates)


# --- the advocate's side --------------------------------------------------------------------


def incentive_for(advocate: Advocate, campaign: Campaign) -> tuple[Incentive, Decimal]:
    """What this advocate would receive besides points, from their account's gift policy."""
    if campaign.gift_value <= 0 or advocate.account.gift_policy is GiftPolicy.NONE:
        return Incentive.NONE, Decimal("0")
    if advocate.account.gift_policy is GiftPolicy.CHARITY_ONLY:
        return Incentive.DONATION, campaign.gift_value
    return Incentive.GIFT, campaign.gift_value


def _own(actor: User, participation: CampaignParticipation) -> None:
    if participation.advocate.user_id != actor.id:
        raise DomainError("Only the invited advocate can do this.")


def _transition(participation: CampaignParticipation, allowed_from: tuple[ParticipationStatus, ...], **values) -> bool:
    done = db.session.execute(
        update(CampaignParticipation)
        .where(CampaignParticipation.id == participation.id, CampaignParticipation.status.in_(allowed_from))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(participation)
    return done.rowcount == 1


def join(actor: User, participation: CampaignParticipation) -> None:
    _own(actor, participation)
    campaign = participation.campaign
    today = utcnow().date()
    if participation.advocate.status is not AdvocateStatus.APPROVED:
        raise DomainError("Only current members of the program can join campaigns.")
    if today < campaign.starts_on:
        raise DomainError(f"This campaign opens on {campaign.starts_on:%-d %B %Y}.")
    if today > campaign.ends_on:
        raise DomainError("This campaign has ended.")
    incentive, value = incentive_for(participation.advocate, campaign)
    if not _transition(
        participation,
        (ParticipationStatus.INVITED,),
        status=ParticipationStatus.JOINED,
        joined_at=utcnow(),
        incentive=incentive,
        incentive_value=value,
    ):
        raise DomainError("You have already joined this campaign.")
    audit.record(actor, "campaign.joined", participation, f"Joined “{campaign.name}”",
                 advocate_id=participation.advocate_id, incentive=incentive.value)


def _locked(participation: CampaignParticipation) -> CampaignParticipation:
    db.session.execute(
        select(CampaignParticipation.id).where(CampaignParticipation.id == participation.id).with_for_update()
    )
    db.session.refresh(participation)
    return participation


REFUSED_PROOF = {
    ParticipationStatus.INVITED: "Join the campaign before sending proof.",
    ParticipationStatus.SUBMITTED: "Your proof is already being checked: you will hear from the team.",
    ParticipationStatus.VERIFIED: "Your review is already verified: one review per campaign counts.",
}


def submit_proof(
    actor: User,
    participation: CampaignParticipation,
    review_url: str = "",
    screenshot: FileStorage | None = None,
    note: str = "",
) -> ReviewProof:
    """Send proof (the review's URL and/or a screenshot) to the team's queue. Stores nothing
    when refused."""
    _own(actor, participation)
    participation = _locked(participation)
    if participation.status in REFUSED_PROOF:
        raise DomainError(REFUSED_PROOF[participation.status])
    if utcnow().date() > participation.campaign.ends_on:
        raise DomainError("This campaign has ended: proof can no longer be sent.")
    review_url = (review_url or "").strip()
    has_file = screenshot is not None and bool(screenshot.filename)
    if review_url and not is_web_url(review_url):
        raise DomainError("Enter the review's address as an http:// or https:// link.", field="review_url")
    if len(review_url) > 500:
        raise DomainError("That address is too long: copy the review's link from the platform.", field="review_url")
    if not review_url and not has_file:
        raise DomainError("Give the link to your review, a screenshot of it, or both.", field="review_url")
    upload = uploads.store_image(actor, screenshot, field="screenshot") if has_file else None
    proof = ReviewProof(
        participation=participation,
        review_url=review_url,
        screenshot_id=upload.id if upload else None,
        note=(note or "").strip()[:2000],
    )
    db.session.add(proof)
    participation.status = ParticipationStatus.SUBMITTED
    db.session.flush()
    campaign = participation.campaign
    approvals.open_item(
        QueueKind.REVIEW_PROOF, participation.advocate, proof.id, f"{campaign.platform.label} review for “{campaign.name}”"
    )
    audit.record(actor, "campaign.proof_sent", proof, f"Sent proof for “{campaign.name}”", advocate_id=participation.advocate_id)
    return proof


@approvals.handles(QueueKind.REVIEW_PROOF)
def _decide_proof(actor: User, item: QueueItem, approve: bool, reason: str) -> tuple[User, str]:
    proof = db.session.get(ReviewProof, item.subject_id)
    if proof is None or proof.status is not ProofStatus.SUBMITTED:
        raise DomainError("This proof is no longer waiting for a decision.")
    participation = proof.participation
    campaign = participation.campaign
    now = utcnow()
    proof.status = ProofStatus.VERIFIED if approve else ProofStatus.REJECTED
    proof.decided_at = now
    proof.reason = reason
    participation.status = ParticipationStatus.VERIFIED if approve else ParticipationStatus.REJECTED
    participation.verified_at = now if approve else None
    db.session.flush()  # the unique index refuses a second verified review here
    if not approve:
        return participation.advocate.user, f"Your review proof for “{campaign.name}” was not accepted"
    points.award(participation.advocate, PointsSource.REVIEW_VERIFIED, proof.id, points=campaign.points_per_review, actor=actor,
                 reason=f"Verified {campaign.platform.label} review: {campaign.name}")
    gift = {
        Incentive.GIFT: f" and a gift of {format_money(participation.incentive_value)}",
        Incentive.DONATION: f" and a donation of {format_money(participation.incentive_value)} to charity",
        Incentive.NONE: "",
    }[participation.incentive]
    return participation.advocate.user, f"Your review for “{campaign.name}” is verified: {campaign.points_per_review} points{gift}"


def record_click(token: str) -> str | None:
    """Count a click on a tracking link; the campaign's review page, or None for a bad token."""
    participation = db.session.scalar(select(CampaignParticipation).where(CampaignParticipation.token == token))
    if participation is None:
        return None
    db.session.execute(
        update(CampaignParticipation)
        .where(CampaignParticipation.id == participation.id)
        .values(clicks=CampaignParticipation.clicks + 1, last_clicked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return participation.campaign.review_url


# --- lists and progress ---------------------------------------------------------------------


def verified_counts(campaign_ids: list[int]) -> dict[int, int]:
    """Verified reviews per campaign, in one query: progress toward each target."""
    if not campaign_ids:
        return {}
    rows = db.session.execute(
        select(CampaignParticipation.campaign_id, func.count())
        .where(CampaignParticipation.campaign_id.in_(campaign_ids), CampaignParticipation.status == ParticipationStatus.VERIFIED)
        .group_by(CampaignParticipation.campaign_id)
    ).all()
    counts = dict.fromkeys(campaign_ids, 0)
    counts.update({campaign_id: n for campaign_id, n in rows})
    return counts


def campaigns_query() -> Select:
    return select(Campaign).order_by(Campaign.ends_on.desc(), Campaign.id.desc())


def participants_query(campaign: Campaign) -> Select:
    return (
        select(CampaignParticipation)
        .where(CampaignParticipation.campaign_id == campaign.id)
        .order_by(CampaignParticipation.status, CampaignParticipation.id)
    )


def my_participations(user: User) -> Select:
    """The campaigns a person was invited to, open ones first."""
    today = utcnow().date()
    return (
        select(CampaignParticipation)
        .join(Campaign, CampaignParticipation.campaign_id == Campaign.id)
        .join(Advocate, CampaignParticipation.advocate_id == Advocate.id)
        .where(Advocate.user_id == user.id, Advocate.status == AdvocateStatus.APPROVED, Campaign.starts_on <= today)
        .order_by((Campaign.ends_on < today), Campaign.ends_on, Campaign.id)
    )


def participation_for(user: User, campaign_id: int) -> CampaignParticipation | None:
    return db.session.scalar(
        select(CampaignParticipation)
        .join(Advocate, CampaignParticipation.advocate_id == Advocate.id)
        .where(CampaignParticipation.campaign_id == campaign_id, Advocate.user_id == user.id)
        .order_by(CampaignParticipation.id.desc())
        .limit(1)
    )


PROOFS_SHOWN = 20


def proofs_of(participation: CampaignParticipation) -> list[ReviewProof]:
    """The latest proofs sent for a participation (one counts; a few at most are rejected)."""
    return list(
        db.session.scalars(
            select(ReviewProof)
            .where(ReviewProof.participation_id == participation.id)
            .order_by(ReviewProof.id.desc())
            .limit(PROOFS_SHOWN)
        )
    )


def proof_visible_to(user: User, proof_id: int) -> ReviewProof | None:
    """A proof its own advocate or an admin may see; None for anyone else (a 404)."""
    proof = db.session.get(ReviewProof, proof_id)
    if proof is None:
        return None
    if user.role is Role.ADMIN or proof.participation.advocate.user_id == user.id:
        return proof
    return None


# --- privacy --------------------------------------------------------------------------------


def _their_proofs(advocate_ids: list[int]) -> Select:
    return (
        select(ReviewProof)
        .join(CampaignParticipation, ReviewProof.participation_id == CampaignParticipation.id)
        .where(CampaignParticipation.advocate_id.in_(advocate_ids))
        .order_by(ReviewProof.id)
    )


def erase_for(advocate_ids: list[int]) -> None:
    """An erased account's screenshots are deleted, its review links, notes and the team's
    reasons cleared, and proofs still waiting withdrawn. The personal tracking links stop
    working (a new random token, linked to nobody); the participation stays, counted."""
    if not advocate_ids:
        return
    proofs = db.session.scalars(_their_proofs(advocate_ids)).all()
    screenshot_ids = [p.screenshot_id for p in proofs if p.screenshot_id is not None]
    for proof in proofs:
        proof.screenshot_id = None
        proof.note = ""
        proof.review_url = ""
        proof.reason = ""
        if proof.status is ProofStatus.SUBMITTED:
            proof.status = ProofStatus.WITHDRAWN
    for participation in db.session.scalars(
        select(CampaignParticipation).where(CampaignParticipation.advocate_id.in_(advocate_ids))
    ):
        participation.token = new_token()
        participation.last_clicked_at = None
    db.session.flush()
    if screenshot_ids:
        db.session.execute(delete(Upload).where(Upload.id.in_(screenshot_ids)))


def export_for(advocate_ids: list[int]) -> list[dict]:
    if not advocate_ids:
        return []
    proofs: dict[int, list[ReviewProof]] = {}
    for proof in db.session.scalars(_their_proofs(advocate_ids)):
        proofs.setdefault(proof.participation_id, []).append(proof)
    participations = db.session.scalars(
        select(CampaignParticipation)
        .where(CampaignParticipation.advocate_id.in_(advocate_ids))
        .order_by(CampaignParticipation.id)
    )
    iso = lambda value: value.isoformat() if value else None  # noqa: E731
    return [
        {
            "campaign": p.campaign.name,
            "platform": p.campaign.platform.label,
            "status": p.status.value,
            "incentive": p.incentive.value,
            "incentive_value": str(p.incentive_value),
            "tracking_link_clicks": p.clicks,
            "invited_at": iso(p.invited_at),
            "joined_at": iso(p.joined_at),
            "verified_at": iso(p.verified_at),
            "proofs": [
                {
                    "review_url": proof.review_url,
                    "screenshot": proof.screenshot.filename if proof.screenshot else None,
                    "note": proof.note,
                    "status": proof.status.value,
                    "reason": proof.reason,
                    "submitted_at": iso(proof.submitted_at),
                    "decided_at": iso(proof.decided_at),
                }
                for proof in proofs.get(p.id, [])
            ],
        }
        for p in participations
    ]
