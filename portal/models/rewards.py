"""The rewards catalog, claims against it, and the program's points and gift settings."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, enum_type, utcnow
from portal.models.advocate import Advocate
from portal.models.points import DEFAULT_POINTS, PointsSource
from portal.models.upload import Upload
from portal.models.user import User

DEFAULT_VALUE_PER_POINT = Decimal("0.05")
DEFAULT_ANNUAL_GIFT_CAP = Decimal("250.00")
DEFAULT_CURRENCY = "USD"  # ISO 4217


class RewardSettings(db.Model):
    """One row, set by admins: what each earning event is worth (SPEC §8's points table),
    what a point costs the program (for the liability) and the default annual gift cap."""

    __tablename__ = "reward_settings"
    __table_args__ = (
        CheckConstraint(
            "nomination_approved >= 0 AND profile_confirmed >= 0 AND ask_accepted >= 0 AND ask_completed >= 0"
            " AND review_verified >= 0 AND meeting_attended >= 0",
            name="points_not_negative",
        ),
        CheckConstraint("value_per_point >= 0", name="value_per_point_not_negative"),
        CheckConstraint("default_annual_gift_cap >= 0", name="gift_cap_not_negative"),
        CheckConstraint("length(currency) = 3", name="currency_is_a_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One column per earning PointsSource, named after its value (see points.points_value).
    nomination_approved: Mapped[int] = mapped_column(default=DEFAULT_POINTS[PointsSource.NOMINATION_APPROVED])
    profile_confirmed: Mapped[int] = mapped_column(default=DEFAULT_POINTS[PointsSource.PROFILE_CONFIRMED])
    ask_accepted: Mapped[int] = mapped_column(default=DEFAULT_POINTS[PointsSource.ASK_ACCEPTED])
    ask_completed: Mapped[int] = mapped_column(default=DEFAULT_POINTS[PointsSource.ASK_COMPLETED])
    review_verified: Mapped[int] = mapped_column(default=DEFAULT_POINTS[PointsSource.REVIEW_VERIFIED])
    meeting_attended: Mapped[int] = mapped_column(default=DEFAULT_POINTS[PointsSource.MEETING_ATTENDED])
    value_per_point: Mapped[Decimal] = mapped_column(Numeric(10, 4), default=DEFAULT_VALUE_PER_POINT)
    default_annual_gift_cap: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=DEFAULT_ANNUAL_GIFT_CAP)
    # The program's currency (ISO 4217): every amount in the portal (reward values, gift and
    # incentive caps, deal sizes, revenue, the points liability) is in it.
    currency: Mapped[str] = mapped_column(String(3), default=DEFAULT_CURRENCY, server_default=DEFAULT_CURRENCY)


class Reward(db.Model):
    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("points_cost > 0", name="cost_positive"),
        CheckConstraint("monetary_value >= 0", name="value_not_negative"),
        # Never oversold: the claim locks the row, and the schema refuses a negative stock.
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("per_advocate_limit IS NULL OR per_advocate_limit >= 1", name="limit_positive"),
        CheckConstraint(
            "available_from IS NULL OR available_until IS NULL OR available_until >= available_from",
            name="window_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    image_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id", ondelete="SET NULL"))
    points_cost: Mapped[int]
    # In the program's currency: what counts against the advocate's annual gift cap.
    monetary_value: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    # None = unlimited.
    stock: Mapped[int | None]
    per_advocate_limit: Mapped[int | None]
    available_from: Mapped[date | None] = mapped_column(Date)
    available_until: Mapped[date | None] = mapped_column(Date)
    needs_approval: Mapped[bool] = mapped_column(default=False)
    # A donation made in the advocate's name to one of ``charities`` (their choice).
    is_donation: Mapped[bool] = mapped_column(default=False)
    charities: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    image: Mapped[Upload | None] = relationship()

    def available_on(self, day: date) -> bool:
        return (
            self.active
            and (self.available_from is None or self.available_from <= day)
            and (self.available_until is None or day <= self.available_until)
        )


class ClaimStatus(enum.StrEnum):
    REQUESTED = "requested"  # waiting for the team's approval
    APPROVED = "approved"  # to be sent
    FULFILLED = "fulfilled"
    REJECTED = "rejected"  # points returned
    CANCELLED = "cancelled"  # points returned

    @property
    def label(self) -> str:
        return {
            "requested": "Waiting for approval",
            "approved": "Approved, being sent",
            "fulfilled": "Fulfilled",
            "rejected": "Rejected, points returned",
            "cancelled": "Cancelled, points returned",
        }[self.value]


# Claims that hold their points and count against stock, limits and the gift cap.
HOLDING_STATUSES = (ClaimStatus.REQUESTED, ClaimStatus.APPROVED, ClaimStatus.FULFILLED)


class RewardClaim(db.Model):
    __tablename__ = "reward_claims"
    __table_args__ = (
        Index("ix_reward_claims_user_created", "user_id", "created_at"),
        Index("ix_reward_claims_status_created", "status", "created_at"),
        CheckConstraint("points > 0", name="points_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="RESTRICT"), index=True)
    # Points and gifts belong to the person; the membership says which account's policy applied.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id", ondelete="RESTRICT"), index=True)
    status: Mapped[ClaimStatus] = mapped_column(enum_type(ClaimStatus, "claim_status"), default=ClaimStatus.REQUESTED)
    # What the claim cost and was worth when made (the catalog may change later).
    points: Mapped[int]
    monetary_value: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    charity: Mapped[str | None] = mapped_column(String(200))
    # Where or how to send it, from the advocate.
    delivery_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # rejected or cancelled
    reason: Mapped[str] = mapped_column(Text, default="")

    reward: Mapped[Reward] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship()
    advocate: Mapped[Advocate] = relationship()
