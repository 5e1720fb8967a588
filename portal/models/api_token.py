"""Tokens that other systems (customer success, CRM) use for /api/v1. Only a SHA-256 of the
token is stored; the token itself is shown once, when an admin creates it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, utcnow
from portal.models.user import User


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # hex SHA-256 of the token: a stolen database does not give working tokens
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the first characters, so people can tell their tokens apart
    prefix: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    created_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None
