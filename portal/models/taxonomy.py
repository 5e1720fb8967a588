"""What advocates are described and searched by: products, use cases, industries, activity
types and regions (named groups of countries, nested)."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, enum_type
from portal.models.consent import ConsentPurpose


class TermKind(enum.StrEnum):
    PRODUCT = "product"
    USE_CASE = "use_case"
    INDUSTRY = "industry"

    @property
    def label(self) -> str:
        return {"product": "Products", "use_case": "Use cases", "industry": "Industries"}[self.value]


class Term(db.Model):
    """One entry of a flat taxonomy (a product, a use case or an industry)."""

    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_terms_kind_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TermKind] = mapped_column(enum_type(TermKind, "term_kind"))
    name: Mapped[str] = mapped_column(String(120))
    # Retired terms stay on the records that use them but are no longer offered.
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<Term {self.kind.value}:{self.name}>"


class ActivityWeight(enum.StrEnum):
    """Decides the cool-down after an ask of this type (program settings give the days)."""

    LIGHT = "light"
    HEAVY = "heavy"


class ActivityType(db.Model):
    """Something an advocate can be asked to do (SPEC §4)."""

    __tablename__ = "activity_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    weight: Mapped[ActivityWeight] = mapped_column(enum_type(ActivityWeight, "activity_weight"), default=ActivityWeight.LIGHT)
    # The consent an ask of this type needs (None: it shares nothing about the advocate).
    purpose: Mapped[ConsentPurpose | None] = mapped_column(enum_type(ConsentPurpose, "activity_purpose"))


class Region(db.Model):
    """A named group of countries; regions nest (Central America within Latin America)."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)

    parent: Mapped[Region | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent", order_by="Region.name")
    countries: Mapped[list[RegionCountry]] = relationship(
        cascade="all, delete-orphan", order_by="RegionCountry.country"
    )

    @property
    def country_codes(self) -> list[str]:
        return [c.country for c in self.countries]


class RegionCountry(db.Model):
    __tablename__ = "region_countries"

    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True)
    # ISO 3166-1 alpha-2
    country: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)
