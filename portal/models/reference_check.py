"""Consistency checks of what the portal maintains as a copy (the reference database, the
availability states) against what it computes afresh, and rebuilds, which also repair what
differs. Comparing every advocate takes minutes in a large program, so a check runs as a job
and records its result here; /admin/publishing shows the latest one of each subject."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, enum_type, utcnow
from portal.models.user import User


class CheckStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a job worker
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"  # the reference database did not answer, or the worker stopped


class CheckSubject(enum.StrEnum):
    REFERENCE = "reference"  # the reference database against the published set
    AVAILABILITY = "availability"  # each advocate's availability state against the rule


class CheckTrigger(enum.StrEnum):
    ADMIN = "admin"  # "Check now" or "Rebuild now" on /admin/publishing
    NIGHTLY = "nightly"  # the nightly rebuild
    COMMAND = "command"  # flask --app wsgi reference rebuild [--dry-run]


class ReferenceCheck(db.Model):
    __tablename__ = "reference_checks"
    __table_args__ = (
        # One check or rebuild at a time per subject: in_progress is TRUE only while one is
        # unfinished, and NULLs never collide, whoever starts the next one at the same moment.
        UniqueConstraint("subject", "in_progress"),
        # The code only ever writes TRUE or NULL, and TRUE exactly while the check is unfinished.
        CheckConstraint("in_progress", name="in_progress_true"),
        CheckConstraint("(status IN ('queued', 'running')) = (in_progress IS NOT NULL)", name="in_progress_while_unfinished"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[CheckSubject] = mapped_column(
        enum_type(CheckSubject, "check_subject"), default=CheckSubject.REFERENCE, server_default=CheckSubject.REFERENCE.value
    )
    # False: only compare; True: a rebuild, which writes every row that differs.
    repair: Mapped[bool]
    status: Mapped[CheckStatus] = mapped_column(enum_type(CheckStatus, "check_status"), default=CheckStatus.QUEUED)
    trigger: Mapped[CheckTrigger] = mapped_column(enum_type(CheckTrigger, "check_trigger"))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # TRUE while queued or running, NULL once ended (unique per subject, above).
    in_progress: Mapped[bool | None] = mapped_column(default=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    # The last sign of life (each batch compared moves it): a check that shows none for a
    # while was lost with its worker, and the next start takes its place.
    alive_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    advocates_total: Mapped[int | None]  # advocates to compare, known once it runs
    advocates_done: Mapped[int] = mapped_column(default=0)
    difference_count: Mapped[int | None]
    # The first differences found: [{"advocate_id": 7, "change": "update", "fields": ["story"]}]
    differences: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")

    started_by: Mapped[User | None] = relationship()

    @property
    def ended(self) -> bool:
        return self.status in (CheckStatus.FINISHED, CheckStatus.FAILED)

    @property
    def kind_label(self) -> str:
        return "rebuild" if self.repair else "check"

    @property
    def requested_by_label(self) -> str:
        if self.trigger is CheckTrigger.NIGHTLY:
            return "by the nightly job"
        if self.trigger is CheckTrigger.COMMAND:
            return "from the command line"
        return f"by {self.started_by.name}" if self.started_by is not None else "by an admin"
