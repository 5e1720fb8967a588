"""Reporting (SPEC §10): the growth targets the team recruits toward, the demand the program
could not meet, and program reports rendered as PDFs."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from portal.database import db, enum_type, utcnow
from portal.models.taxonomy import Region, Term
from portal.models.user import User


class CoverageTarget(db.Model):
    """How many available advocates the program wants for a combination of industry, region
    and product; a missing one means "any". An open recruiting call asks staff on
    /staff/nominate to nominate customers who fit, until the gap closes."""

    __tablename__ = "coverage_targets"
    __table_args__ = (CheckConstraint("target BETWEEN 1 AND 10000", name="target_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "i3.r-.p7": one target per combination, whoever sets it at the same moment (a unique
    # constraint cannot do it on the nullable ids, where NULLs never collide).
    combination: Mapped[str] = mapped_column(String(60), unique=True)
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"), index=True)
    target: Mapped[int]
    call_open: Mapped[bool] = mapped_column(default=False)
    call_message: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    industry: Mapped[Term | None] = relationship(foreign_keys=[industry_id], lazy="joined")
    region: Mapped[Region | None] = relationship(lazy="joined")
    product: Mapped[Term | None] = relationship(foreign_keys=[product_id], lazy="joined")

    @staticmethod
    def combination_of(industry_id: int | None, region_id: int | None, product_id: int | None) -> str:
        return ".".join(f"{k}{v if v is not None else '-'}" for k, v in (("i", industry_id), ("r", region_id), ("p", product_id)))


class FiguresVersion(db.Model):
    """One row: a number every transaction that changes the dashboard's figures raises as it
    commits. Each app process keeps the figures it computed with the number they were
    computed at, and reads the number (one primary-key lookup) with every dashboard page:
    a change made through any instance shows on the next load of every instance."""

    __tablename__ = "figures_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class DemandSource(enum.StrEnum):
    SEARCH = "search"  # a directory search for available advocates found none
    REQUEST = "request"  # a seller's reference request was closed unfilled

    @property
    def label(self) -> str:
        return {"search": "Directory search", "request": "Reference request"}[self.value]


class UnmetDemand(db.Model):
    """One time the program had no available advocate for what someone looked for. The
    criteria are normalised into ``criteria_key`` so the same combination counts together,
    whatever order it was chosen in."""

    __tablename__ = "unmet_demand"
    __table_args__ = (Index("ix_unmet_demand_key_created", "criteria_key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[DemandSource] = mapped_column(enum_type(DemandSource, "demand_source"))
    criteria_key: Mapped[str] = mapped_column(String(500))
    # {"products": [ids], "industries": [ids], "regions": [ids], "activities": [ids]}, sorted
    criteria: Mapped[dict] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reference_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("reference_requests.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ReportStatus(enum.StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    READY = "ready"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"queued": "Waiting to start", "rendering": "Being drawn", "ready": "Ready", "failed": "Failed"}[
            self.value
        ]


class ProgramReport(db.Model):
    """A PDF program report for one quarter; large ones are drawn by a job, which records
    its progress here."""

    __tablename__ = "program_reports"
    __table_args__ = (
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    quarter: Mapped[int]
    status: Mapped[ReportStatus] = mapped_column(
        enum_type(ReportStatus, "report_status"), default=ReportStatus.QUEUED
    )
    progress: Mapped[int] = mapped_column(default=0)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    pdf_size: Mapped[int | None]

    requested_by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        return f"Q{self.quarter} {self.year}"

    @property
    def filename(self) -> str:
        return f"program-report-{self.year}-q{self.quarter}.pdf"
