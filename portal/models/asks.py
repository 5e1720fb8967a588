"""Asks: requests to advocates, and what protects advocates from too many of them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, enum_type, utcnow
from portal.models.advocate import Advocate
from portal.models.taxonomy import ActivityType
from portal.models.user import User


class AskStatus(enum.StrEnum):
    SENT = "sent"  # waiting for the advocate's answer
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the team took it back
    COMPLETED = "completed"
    EXPIRED = "expired"  # not answered by its due date

    @property
    def label(self) -> str:
        return {
            "sent": "Waiting for answer",
            "accepted": "Accepted",
            "declined": "Declined",
            "withdrawn": "Withdrawn",
            "completed": "Completed",
            "expired": "Expired",
        }[self.value]


# An ask counts against the advocate's limits from when it is sent until it is declined or
# withdrawn (SPEC §5, stated on /preferences and /admin/asks).
COUNTING_STATUSES = (AskStatus.SENT, AskStatus.ACCEPTED, AskStatus.COMPLETED, AskStatus.EXPIRED)


class AskOutcome(enum.StrEnum):
    WON = "won"
    LOST = "lost"
    OPEN = "open"


class Ask(db.Model):
    __tablename__ = "asks"
    __table_args__ = (
        Index("ix_asks_advocate_created", "advocate_id", "created_at"),
        CheckConstraint("deal_size IS NULL OR deal_size >= 0", name="deal_size_not_negative"),
        CheckConstraint("outcome_amount IS NULL OR outcome_amount >= 0", name="outcome_amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id", ondelete="CASCADE"))
    activity_type_id: Mapped[int] = mapped_column(ForeignKey("activity_types.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[AskStatus] = mapped_column(enum_type(AskStatus, "ask_status"), default=AskStatus.SENT, index=True)
    # Context for the advocate and for revenue-influenced reporting.
    prospect_company: Mapped[str] = mapped_column(String(200))
    opportunity_id: Mapped[str] = mapped_column(String(100), default="")
    deal_size: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    due_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Set when an admin sent it although the rules refused it; the reason is audited.
    override_reason: Mapped[str | None] = mapped_column(Text)
    # Indexed for the reports, which read the asks of one period (sent, or completed, in it).
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    responded_at: Mapped[datetime | None]
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    outcome: Mapped[AskOutcome | None] = mapped_column(enum_type(AskOutcome, "ask_outcome"))
    outcome_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # The seller's request this ask answers, if any.
    reference_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("reference_requests.id", ondelete="SET NULL"), index=True
    )

    advocate: Mapped[Advocate] = relationship(lazy="joined", innerjoin=True)
    activity_type: Mapped[ActivityType] = relationship(lazy="joined", innerjoin=True)
    created_by: Mapped[User | None] = relationship()
    reference_request: Mapped[ReferenceRequest | None] = relationship(back_populates="asks")


class Blackout(db.Model):
    """Dates an advocate must not be contacted (holidays, busy season), inclusive."""

    __tablename__ = "blackouts"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")


class ProgramSettings(db.Model):
    """The program's defaults, one row, set by admins."""

    __tablename__ = "program_settings"
    __table_args__ = (
        CheckConstraint("month_limit >= 1 AND quarter_limit >= month_limit", name="limits_consistent"),
        CheckConstraint("light_cooldown_days >= 0 AND heavy_cooldown_days >= 0", name="cooldowns_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month_limit: Mapped[int] = mapped_column(default=1)
    quarter_limit: Mapped[int] = mapped_column(default=3)
    light_cooldown_days: Mapped[int] = mapped_column(default=14)
    heavy_cooldown_days: Mapped[int] = mapped_column(default=60)


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    UNFILLED = "unfilled"  # the team could not find fitting, available advocates

    @property
    def label(self) -> str:
        return {"open": "Being worked on", "fulfilled": "Fulfilled", "unfilled": "Could not be filled"}[self.value]


class ReferenceRequest(db.Model):
    """A seller's request for references for a deal; the team answers it with asks."""

    __tablename__ = "reference_requests"
    __table_args__ = (CheckConstraint("how_many BETWEEN 1 AND 10", name="how_many_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    status: Mapped[RequestStatus] = mapped_column(enum_type(RequestStatus, "request_status"), default=RequestStatus.OPEN)
    prospect_company: Mapped[str] = mapped_column(String(200))
    opportunity_id: Mapped[str] = mapped_column(String(100), default="")
    deal_size: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    due_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The kind of advocate wanted (kept as ids so the directory search can be replayed).
    product_ids: Mapped[list] = mapped_column(JSON, default=list)
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id", ondelete="SET NULL"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="SET NULL"))
    activity_type_id: Mapped[int] = mapped_column(ForeignKey("activity_types.id", ondelete="RESTRICT"))
    how_many: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    team_note: Mapped[str] = mapped_column(Text, default="")

    requested_by: Mapped[User] = relationship()
    activity_type: Mapped[ActivityType] = relationship()
    asks: Mapped[list[Ask]] = relationship(back_populates="reference_request", order_by="Ask.created_at")
