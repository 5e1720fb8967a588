from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.database import db, utcnow
from portal.models.taxonomy import Term


class Account(db.Model):
    """A customer company. Advocates are employees of one account."""

    __tablename__ = "accounts"

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

    industry: Mapped[Term | None] = relationship()

    @validates("domain")
    def _normalise_domain(self, _key: str, value: str | None) -> str | None:
        return value.strip().lower() if value else None

    @validates("country")
    def _normalise_country(self, _key: str, value: str | None) -> str | None:
        return value.strip().upper() if value else None

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.name}>"
