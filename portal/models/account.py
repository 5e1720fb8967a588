from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.database import db, enum_type, utcnow
from portal.models.taxonomy import Term


class GiftPolicy(enum.StrEnum):
    """What the customer's own rules let its employees accept (SPEC §8: gift compliance)."""

    ALLOWED = "allowed"
    CHARITY_ONLY = "charity_only"  # only donations to a charity in the advocate's name
    NONE = "none"  # no rewards or incentives at all (e.g. government staff)

    @property
    def label(self) -> str:
        return {
            "allowed": "Rewards allowed",
            "charity_only": "Charity donations only",
            "none": "No rewards or incentives",
        }[self.value]


class Account(db.Model):
    """A customer company. Advocates are employees of one account."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("annual_gift_cap IS NULL OR annual_gift_cap >= 0", name="gift_cap_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The company's email domain, used to match people to their company.
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id", ondelete="RESTRICT"), index=True)
    # ISO 3166-1 alpha-2 code of the account's headquarters.
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Reported by the customer-success system: an unhappy account is not asked for references.
    at_risk: Mapped[bool] = mapped_column(default=False)
    gift_policy: Mapped[GiftPolicy] = mapped_column(enum_type(GiftPolicy, "gift_policy"), default=GiftPolicy.ALLOWED)
    # The most an advocate of this account may receive in rewards a year, in the program's
    # currency; None means the program's default cap.
    annual_gift_cap: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))

    industry: Mapped[Term | None] = relationship()

    @validates("domain")
    def _normalise_domain(self, _key: str, value: str | None) -> str | None:
        return value.strip().lower() if value else None

    @validates("country")
    def _normalise_country(self, _key: str, value: str | None) -> str | None:
        return value.strip().upper() if value else None

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.name}>"
