"""Tokens that other systems (customer success, CRM) use for /api/v1. Only a SHA-256 of the
token is stored; the token itself is shown once, when an admin creates it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, utcnow
from portal.models.user import User

# What a token may do, chosen when it is created (a read token cannot mark an account at risk).
READ_ADVOCATES = "advocates:read"
WRITE_ACCOUNTS = "accounts:write"
SCOPES = {
    READ_ADVOCATES: "Read the published advocates",
    WRITE_ACCOUNTS: "Report account health (an account at risk pauses asks to its advocates)",
}


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
    # A list of SCOPES keys; tokens made before scopes existed were given both.
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    # None: until revoked.
    expires_at: Mapped[datetime | None]

    created_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None and not self.expired

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()

    def allows(self, scope: str) -> bool:
        return scope in (self.scopes or [])
