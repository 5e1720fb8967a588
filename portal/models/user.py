from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.database import db, enum_type, utcnow


class Role(enum.StrEnum):
    ADVOCATE = "advocate"
    STAFF = "staff"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    """A person who signs in: a customer's employee (advocate) or the company's staff/admins."""

    __tablename__ = "users"
    __table_args__ = (
        # Stored lower-cased, so the unique constraint is unique regardless of case even for
        # writes that bypass the ORM.
        CheckConstraint(func.lower(db.column("email")) == db.column("email"), name="email_lower"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)  # the directory lists by name
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"), default=Role.ADVOCATE)
    active: Mapped[bool] = mapped_column(default=True)
    # argon2 hash; None for people who sign in by email link or single sign-on only.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Part of every sign-in link; bumped at each sign-in, which spends all earlier links.
    sign_in_generation: Mapped[int] = mapped_column(default=0)
    # Stored in the session at sign-in and compared on every request; bumped on sign-out
    # (and "sign out everywhere"), which ends every session made before, copied or not.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    # {notification category: "immediate" | "digest" | "off"}; missing = immediate
    email_preferences: Mapped[dict] = mapped_column(JSON, default=dict)
    # The leaderboard shows only those who opted in, by the name they chose there.
    leaderboard_opt_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    display_name: Mapped[str | None] = mapped_column(String(60))

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        return normalise_email(value)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_team(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"


class UserIdentity(db.Model):
    """A single sign-on identity linked to a user: the provider (issuer) and its stable id for
    the person (subject). Linked at the first sign-in and used from then on, so a changed
    email at the provider still signs in the same person, and another subject with the same
    email never takes the account over."""

    __tablename__ = "user_identities"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        # One subject per provider for a user: a second person with the same address at the
        # provider cannot be linked to the account, even by two sign-ins at the same moment.
        UniqueConstraint("user_id", "issuer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


def normalise_email(value: str) -> str:
    return value.strip().lower()
