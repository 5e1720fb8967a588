from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import db, enum_type, utcnow


class NotificationCategory(enum.StrEnum):
    DECISIONS = "decisions"
    REQUESTS = "requests"
    PROGRAMS = "programs"
    REMINDERS = "reminders"

    @property
    def label(self) -> str:
        return {
            "decisions": "Decisions about my nominations, applications and profile changes",
            "requests": "Requests for my help (reference calls, quotes, reviews ...)",
            "programs": "Advisory boards and review campaigns I take part in",
            "reminders": "Reminders to keep my profile up to date",
        }[self.value]


class Delivery(enum.StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"  # collected into one weekly email
    OFF = "off"


class Notification(db.Model):
    """A message to one person, shown in the portal and emailed per their preferences."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[NotificationCategory] = mapped_column(enum_type(NotificationCategory, "notification_category"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    # Set when it went out in a weekly digest.
    digested_at: Mapped[datetime | None]
