"""The points ledger: append-only, one entry per award or spend, the balance derived from it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, enum_type, utcnow
from portal.models.user import User


class PointsSource(enum.StrEnum):
    """What an entry is for. With ``source_id`` (the id of the row that caused it) it says
    exactly which event earned or spent the points; see ``DEFAULT_POINTS``."""

    NOMINATION_APPROVED = "nomination_approved"  # source_id: advocates.id
    PROFILE_CONFIRMED = "profile_confirmed"  # source_id: the confirmation's audit_events.id
    ASK_ACCEPTED = "ask_accepted"  # source_id: asks.id
    ASK_COMPLETED = "ask_completed"  # source_id: asks.id
    REVIEW_VERIFIED = "review_verified"  # source_id: the verified proof's id
    MEETING_ATTENDED = "meeting_attended"  # source_id: the attendance record's id
    MANUAL = "manual"  # an admin's award or deduction, with a reason; source_id: None
    REWARD_CLAIM = "reward_claim"  # a spend; source_id: the claim's id
    REWARD_REFUND = "reward_refund"  # a rejected or cancelled claim; source_id: the claim's id

    @property
    def label(self) -> str:
        return {
            "nomination_approved": "Nomination approved",
            "profile_confirmed": "Profile confirmed",
            "ask_accepted": "Request accepted",
            "ask_completed": "Request completed",
            "review_verified": "Verified review",
            "meeting_attended": "Board meeting attended",
            "manual": "From the advocacy team",
            "reward_claim": "Reward claimed",
            "reward_refund": "Reward points returned",
        }[self.value]


# Points each earning event is worth out of the box; admins change them in the program settings.
DEFAULT_POINTS = {
    PointsSource.NOMINATION_APPROVED: 100,
    PointsSource.PROFILE_CONFIRMED: 20,
    PointsSource.ASK_ACCEPTED: 20,
    PointsSource.ASK_COMPLETED: 40,
    PointsSource.REVIEW_VERIFIED: 50,
    PointsSource.MEETING_ATTENDED: 30,
}


class PointsEntry(db.Model):
    """One award (points > 0) or spend (points < 0). Never updated or deleted: a correction
    is a new entry. ``balance_after`` is the running sum for the person, written under a
    lock on the person's row, and can never be negative."""

    __tablename__ = "points_entries"
    __table_args__ = (
        # No event is awarded twice, whoever replays it: a constraint, not a check in Python.
        Index(
            "uq_points_entries_source",
            "source",
            "source_id",
            unique=True,
            sqlite_where=text("source_id IS NOT NULL"),
            postgresql_where=text("source_id IS NOT NULL"),
        ),
        Index("ix_points_entries_user_id_id", "user_id", "id"),
        CheckConstraint("points <> 0", name="points_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Points belong to the person: they survive a job change (a new advocate record).
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # The membership the event happened in, for the team's reports.
    advocate_id: Mapped[int | None] = mapped_column(ForeignKey("advocates.id", ondelete="SET NULL"), index=True)
    points: Mapped[int]
    balance_after: Mapped[int]
    source: Mapped[PointsSource] = mapped_column(enum_type(PointsSource, "points_source"))
    source_id: Mapped[int | None]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
