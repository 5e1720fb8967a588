"""Peer-review campaigns (SPEC §7): the team invites advocates by criteria to review the
product on a platform; advocates join, follow a personal tracking link and send proof; the
team verifies the proof through the approval queue."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, enum_type, utcnow
from portal.models.advocate import Advocate
from portal.models.upload import Upload
from portal.models.user import User


class ReviewPlatform(enum.StrEnum):
    G2 = "g2"
    GARTNER = "gartner_peer_insights"
    TRUSTRADIUS = "trustradius"
    CAPTERRA = "capterra"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "g2": "G2",
            "gartner_peer_insights": "Gartner Peer Insights",
            "trustradius": "TrustRadius",
            "capterra": "Capterra",
            "other": "Other platform",
        }[self.value]


class PlatformIncentiveCap(db.Model):
    """The most a campaign on one platform may give per review; set by admins (the
    defaults in ``portal.services.campaigns`` apply until they save one)."""

    __tablename__ = "platform_incentive_caps"
    __table_args__ = (CheckConstraint("max_gift_value >= 0", name="cap_not_negative"),)

    platform: Mapped[ReviewPlatform] = mapped_column(enum_type(ReviewPlatform, "review_platform"), primary_key=True)
    max_gift_value: Mapped[Decimal] = mapped_column(Numeric(10, 2))


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("target_count >= 1", name="target_positive"),
        CheckConstraint("points_per_review >= 0", name="points_not_negative"),
        CheckConstraint("gift_value >= 0", name="gift_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[ReviewPlatform] = mapped_column(enum_type(ReviewPlatform, "review_platform"))
    # Where the tracking link sends advocates: the product's review page on the platform.
    review_url: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    target_count: Mapped[int]
    points_per_review: Mapped[int]
    # The incentive per verified review, in the program's currency; 0 for none.
    gift_value: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    instructions: Mapped[str] = mapped_column(Text, default="")
    # Who is invited, as ids so that the directory's filters can be replayed (never a
    # satisfaction score).
    product_ids: Mapped[list] = mapped_column(JSON, default=list)
    industry_ids: Mapped[list] = mapped_column(JSON, default=list)
    region_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship()

    def is_active_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class ParticipationStatus(enum.StrEnum):
    INVITED = "invited"
    JOINED = "joined"
    SUBMITTED = "submitted"  # proof waiting for the team
    REJECTED = "rejected"  # the last proof was not accepted; a new one may be sent
    VERIFIED = "verified"

    @property
    def label(self) -> str:
        return {
            "invited": "Invited",
            "joined": "Joined",
            "submitted": "Proof sent, being checked",
            "rejected": "Proof not accepted",
            "verified": "Review verified",
        }[self.value]


class Incentive(enum.StrEnum):
    """What a participant receives besides points, decided at joining from the account's
    gift policy; the rewards side fulfils it after verification."""

    GIFT = "gift"
    DONATION = "donation"  # to a charity, for accounts that allow only that
    NONE = "none"

    @property
    def label(self) -> str:
        return {"gift": "Gift", "donation": "Charity donation", "none": "No incentive"}[self.value]


def new_token() -> str:
    return secrets.token_urlsafe(16)


class CampaignParticipation(db.Model):
    __tablename__ = "campaign_participations"
    __table_args__ = (
        UniqueConstraint("campaign_id", "advocate_id", name="uq_campaign_participations_advocate"),
        CheckConstraint("incentive_value >= 0", name="incentive_not_negative"),
        Index("ix_campaign_participations_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id", ondelete="CASCADE"), index=True)
    status: Mapped[ParticipationStatus] = mapped_column(
        enum_type(ParticipationStatus, "participation_status"), default=ParticipationStatus.INVITED
    )
    # The personal tracking link: /campaigns/go/<token>.
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    clicks: Mapped[int] = mapped_column(default=0)
    last_clicked_at: Mapped[datetime | None]
    incentive: Mapped[Incentive] = mapped_column(enum_type(Incentive, "incentive"), default=Incentive.NONE)
    incentive_value: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    joined_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship(lazy="joined", innerjoin=True)
    advocate: Mapped[Advocate] = relationship(lazy="joined", innerjoin=True)


class ProofStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the advocate erased their account before a decision

    @property
    def label(self) -> str:
        return {
            "submitted": "Being checked",
            "verified": "Verified",
            "rejected": "Not accepted",
            "withdrawn": "Withdrawn",
        }[self.value]


class ReviewProof(db.Model):
    """Proof that a review was written: its URL and/or a screenshot. Never its rating."""

    __tablename__ = "review_proofs"
    __table_args__ = (
        # One verified review per advocate per campaign, and one proof waiting at a time.
        Index(
            "uq_review_proofs_verified",
            "participation_id",
            unique=True,
            sqlite_where=text("status = 'verified'"),
            postgresql_where=text("status = 'verified'"),
        ),
        Index(
            "uq_review_proofs_waiting",
            "participation_id",
            unique=True,
            sqlite_where=text("status = 'submitted'"),
            postgresql_where=text("status = 'submitted'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("campaign_participations.id", ondelete="CASCADE"), index=True)
    review_url: Mapped[str] = mapped_column(String(500), default="")
    screenshot_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id", ondelete="SET NULL"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ProofStatus] = mapped_column(enum_type(ProofStatus, "proof_status"), default=ProofStatus.SUBMITTED)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")

    participation: Mapped[CampaignParticipation] = relationship(lazy="joined", innerjoin=True)
    screenshot: Mapped[Upload | None] = relationship()
