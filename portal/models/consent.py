"""Consent per purpose: the current state, and the dated, versioned history of every grant
and withdrawal (which wording the person was shown)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, enum_type, utcnow
from portal.models.user import User


class ConsentPurpose(enum.StrEnum):
    REFERENCE_CALLS = "reference_calls"
    CASE_STUDY = "case_study"
    QUOTE = "quote"
    LOGO = "logo"
    SPEAKING = "speaking"
    MEDIA = "media"
    PEER_REVIEW = "peer_review"
    ADVISORY_BOARD = "advisory_board"
    PROGRAM_EMAILS = "program_emails"


class ConsentChange(enum.StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"  # the advocate moved to another company
    ERASED = "erased"  # the person deleted their account


class Consent(db.Model):
    """The consent in force for one advocate and purpose (one row each, updated in place;
    the history is in ``ConsentEvent``)."""

    __tablename__ = "consents"
    __table_args__ = (
        UniqueConstraint("advocate_id", "purpose", name="uq_consents_advocate_purpose"),
        # Who consents to a purpose (the published set, "available now"), read from the index.
        Index("ix_consents_purpose_granted", "purpose", "granted", "advocate_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id", ondelete="CASCADE"))
    purpose: Mapped[ConsentPurpose] = mapped_column(enum_type(ConsentPurpose, "consent_purpose"))
    granted: Mapped[bool]
    wording_version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentEvent(db.Model):
    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[ConsentPurpose] = mapped_column(enum_type(ConsentPurpose, "consent_purpose"))
    change: Mapped[ConsentChange] = mapped_column(enum_type(ConsentChange, "consent_change"))
    wording_version: Mapped[int]
    # The person who acted: always the advocate themselves for grants.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Where it happened (profile page, invitation, job change ...), for the record.
    context: Mapped[str] = mapped_column(String(40), default="profile")

    actor: Mapped[User | None] = relationship()
