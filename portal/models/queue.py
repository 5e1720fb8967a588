"""The advocacy team's approval queue: one row per decision to make, whatever its kind."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, enum_type, utcnow
from portal.models.advocate import Advocate
from portal.models.user import User


class QueueKind(enum.StrEnum):
    NOMINATION = "nomination"
    INVITATION = "invitation"  # a staff-nominated or imported customer confirmed
    PROFILE_CHANGE = "profile_change"
    REFERENCE_REQUEST = "reference_request"  # a seller needs references for a deal
    BOARD_APPLICATION = "board_application"  # an advocate applies for an advisory board seat
    REVIEW_PROOF = "review_proof"  # proof of a review written in a peer-review campaign
    REWARD_CLAIM = "reward_claim"  # a claimed reward that needs the team's approval

    @property
    def label(self) -> str:
        return {
            "nomination": "Self-nomination",
            "invitation": "Confirmed invitation",
            "profile_change": "Profile change",
            "reference_request": "Reference request",
            "board_application": "Board application",
            "review_proof": "Review proof",
            "reward_claim": "Reward claim",
        }[self.value]


class QueueStatus(enum.StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the subject went away before a decision (superseded, erased)
    DEFERRED = "deferred"  # decided with the kind's own third outcome (a board application waitlisted)


class QueueItem(db.Model):
    __tablename__ = "queue_items"
    __table_args__ = (
        # One open item per subject: a second nomination merges instead of queueing twice.
        Index(
            "uq_queue_items_open_subject",
            "kind",
            "subject_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_queue_items_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[QueueKind] = mapped_column(enum_type(QueueKind, "queue_kind"))
    # The row the decision is about, in the table the kind names (advocates for
    # nominations and invitations, profile_changes for profile changes, reference_requests
    # for reference requests, board_applications, review_proofs and reward_claims for those).
    subject_id: Mapped[int]
    # The advocate concerned; None for items about no one advocate (reference requests).
    advocate_id: Mapped[int | None] = mapped_column(ForeignKey("advocates.id", ondelete="CASCADE"), index=True)
    status: Mapped[QueueStatus] = mapped_column(enum_type(QueueStatus, "queue_status"), default=QueueStatus.OPEN)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")

    advocate: Mapped[Advocate | None] = relationship(lazy="joined")
    decided_by: Mapped[User | None] = relationship()
