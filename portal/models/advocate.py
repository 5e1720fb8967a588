"""An advocate: one person's membership of the program for one customer account.

A person (``User``) who moves to another company keeps their history and points but becomes
a new ``Advocate`` for the new account; the old one lapses together with its consents.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Column, Date, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, enum_type, utcnow
from portal.models.account import Account
from portal.models.taxonomy import ActivityType, Term
from portal.models.user import User


class AdvocateStatus(enum.StrEnum):
    UNVERIFIED = "unverified"  # self-nominated; the email address is not verified yet
    INVITED = "invited"  # nominated by staff or imported; the customer has not confirmed
    PENDING = "pending"  # waiting for the advocacy team's decision
    APPROVED = "approved"
    REJECTED = "rejected"
    DECLINED = "declined"  # the customer declined the invitation
    LAPSED = "lapsed"  # the person moved to another company
    ERASED = "erased"  # the person deleted their account

    @property
    def label(self) -> str:
        return {
            "unverified": "Email not verified",
            "invited": "Invited",
            "pending": "Waiting for approval",
            "approved": "Approved",
            "rejected": "Not accepted",
            "declined": "Declined invitation",
            "lapsed": "Moved company",
            "erased": "Deleted",
        }[self.value]


# A person has at most one current advocate record; lapsed and erased ones are history.
CURRENT_STATUSES = tuple(s for s in AdvocateStatus if s not in (AdvocateStatus.LAPSED, AdvocateStatus.ERASED))
_NOT_CURRENT = "status NOT IN ('lapsed', 'erased')"


class Channel(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class NominationSource(enum.StrEnum):
    SELF = "self"
    STAFF = "staff"
    IMPORT = "import"


class Seniority(enum.StrEnum):
    INDIVIDUAL = "individual"
    MANAGER = "manager"
    DIRECTOR = "director"
    VP = "vp"
    EXECUTIVE = "executive"

    @property
    def label(self) -> str:
        return {
            "individual": "Individual contributor",
            "manager": "Manager",
            "director": "Director",
            "vp": "Vice president",
            "executive": "C-level, owner or partner",
        }[self.value]


advocate_products = Table(
    "advocate_products",
    db.metadata,
    Column("advocate_id", ForeignKey("advocates.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("terms.id", ondelete="RESTRICT"), primary_key=True, index=True),
)
advocate_use_cases = Table(
    "advocate_use_cases",
    db.metadata,
    Column("advocate_id", ForeignKey("advocates.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("terms.id", ondelete="RESTRICT"), primary_key=True, index=True),
)
advocate_activity_types = Table(
    "advocate_activity_types",
    db.metadata,
    Column("advocate_id", ForeignKey("advocates.id", ondelete="CASCADE"), primary_key=True),
    Column("activity_type_id", ForeignKey("activity_types.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class Advocate(db.Model):
    __tablename__ = "advocates"
    __table_args__ = (
        Index(
            "uq_advocates_current_user",
            "user_id",
            unique=True,
            sqlite_where=text(_NOT_CURRENT),
            postgresql_where=text(_NOT_CURRENT),
        ),
        CheckConstraint(
            "(month_limit IS NULL OR month_limit >= 0) AND (quarter_limit IS NULL OR quarter_limit >= 0)",
            name="limits_not_negative",
        ),
        CheckConstraint("contact_hours_start < contact_hours_end", name="contact_hours_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    status: Mapped[AdvocateStatus] = mapped_column(enum_type(AdvocateStatus, "advocate_status"), index=True)
    source: Mapped[NominationSource] = mapped_column(enum_type(NominationSource, "nomination_source"))
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    nomination_reason: Mapped[str] = mapped_column(Text, default="")

    job_title: Mapped[str] = mapped_column(String(150), default="")
    seniority: Mapped[Seniority | None] = mapped_column(enum_type(Seniority, "seniority"))
    department: Mapped[str] = mapped_column(String(100), default="")
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id", ondelete="RESTRICT"), index=True)
    # ISO 3166-1 alpha-2 where the advocate works
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    # ISO 639-1 codes
    languages: Mapped[list] = mapped_column(JSON, default=list)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    story: Mapped[str] = mapped_column(Text, default="")

    # Contact preferences (SPEC §4). Limits are the advocate's own, never above the
    # program's; None means the program default.
    month_limit: Mapped[int | None]
    quarter_limit: Mapped[int | None]
    paused_until: Mapped[date | None] = mapped_column(Date)
    preferred_channel: Mapped[Channel] = mapped_column(enum_type(Channel, "channel"), default=Channel.EMAIL)
    phone: Mapped[str] = mapped_column(String(40), default="")
    # ISO weekdays (1 = Monday) and local hours [start, end) that suit calls.
    contact_days: Mapped[list] = mapped_column(JSON, default=lambda: [1, 2, 3, 4, 5])
    contact_hours_start: Mapped[int] = mapped_column(default=9)
    contact_hours_end: Mapped[int] = mapped_column(default=17)

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the quarter's nominations
    submitted_at: Mapped[datetime | None]  # when it reached the team's queue
    decided_at: Mapped[datetime | None]
    last_confirmed_at: Mapped[datetime | None]
    freshness_reminded_at: Mapped[datetime | None]
    # A staff nomination's invitation: when it was sent, how many reminders the customer has
    # had (each sent once), and when it expired unanswered (the nominator is told).
    invited_at: Mapped[datetime | None]
    invitation_reminders: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    invitation_expired_at: Mapped[datetime | None]
    # The record this one continues after a job change.
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("advocates.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin="unnested")
    account: Mapped[Account] = relationship(lazy="joined", innerjoin="unnested")
    nominated_by: Mapped[User | None] = relationship(foreign_keys=[nominated_by_id])
    industry: Mapped[Term | None] = relationship()
    products: Mapped[list[Term]] = relationship(secondary=advocate_products, order_by=Term.name)
    use_cases: Mapped[list[Term]] = relationship(secondary=advocate_use_cases, order_by=Term.name)
    activity_types: Mapped[list[ActivityType]] = relationship(
        secondary=advocate_activity_types, order_by=ActivityType.sort_order
    )

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def is_current(self) -> bool:
        return self.status in CURRENT_STATUSES

    def __repr__(self) -> str:
        return f"<Advocate {self.id} user={self.user_id} {self.status.value}>"


class ChangeStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class ProfileChange(db.Model):
    """Proposed new values of key fields; the approved values stay in force meanwhile."""

    __tablename__ = "profile_changes"
    __table_args__ = (
        Index(
            "uq_profile_changes_pending",
            "advocate_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id", ondelete="CASCADE"), index=True)
    # {"job_title": "...", "product_ids": [..]} — only the fields that change
    changes: Mapped[dict] = mapped_column(JSON)
    status: Mapped[ChangeStatus] = mapped_column(enum_type(ChangeStatus, "change_status"), default=ChangeStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    advocate: Mapped[Advocate] = relationship()
