from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import db, enum_type, utcnow


class OutboxKind(enum.StrEnum):
    EMAIL = "email"
    # An advocate's published row must be recomputed in the reference database.
    REFERENCE_PUBLISH = "reference_publish"
    # The same change, pushed as JSON to the external reference/CRM system.
    HTTP_PUSH = "http_push"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """A side effect (an email, later a publish event) written in the same transaction as
    the change that caused it, and delivered by a job after the commit."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(enum_type(OutboxKind, "outbox_kind"))
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    recipient: Mapped[str | None] = mapped_column(String(254), index=True)
    # Publish events: whose row changes (events of one advocate apply in id order).
    advocate_id: Mapped[int | None] = mapped_column(index=True)
    subject: Mapped[str | None] = mapped_column(String(300))
    payload: Mapped[dict] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
