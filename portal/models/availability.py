"""Each advocate's availability as a maintained state (SPEC §5: one rule, one
implementation). ``portal.services.availability`` writes it in the same transaction as every
change to what the rule reads, and a periodic job moves it when time alone changes it; every
list of "who can be asked now" reads it through the indexes below instead of recounting asks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, column, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import db, utcnow


class AdvocateAvailability(db.Model):
    __tablename__ = "advocate_availability"
    __table_args__ = (
        # "Available now": askable_from <= now < askable_until, over the askable only.
        Index("ix_advocate_availability_askable", "askable_from", "askable_until",
              postgresql_where=text("askable_from IS NOT NULL"), sqlite_where=text("askable_from IS NOT NULL")),
        # The fair ranking, in the order lists read it (``availability.ranked``): fewest recent
        # contacts, then whoever waited longest, never asked first. A page of "Available now"
        # walks this index and stops after its rows instead of sorting every match.
        Index("ix_advocate_availability_rank", "recent_count", column("last_asked_at").asc().nulls_first(), "advocate_id"),
        Index("ix_advocate_availability_over_used", "advocate_id",
              postgresql_where=text("over_used"), sqlite_where=text("over_used")),
        # What the periodic job moves next.
        Index("ix_advocate_availability_next_change_at", "next_change_at"),
    )

    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id", ondelete="CASCADE"), primary_key=True)
    # The first instant from which the rule allows an ask (activity aside), and the instant
    # that window closes by time alone (a blackout starts); NULL from = not within a year.
    askable_from: Mapped[datetime | None]
    askable_until: Mapped[datetime | None]
    # The refusal codes when refreshed: why an advocate is not askable (contact_rules codes).
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    # Askable when refreshed; only the reference database's feed reads it (a change is what
    # publishes), lists use askable_from/askable_until, exact at any instant.
    askable: Mapped[bool] = mapped_column(default=False)
    month_used: Mapped[int] = mapped_column(default=0)
    quarter_used: Mapped[int] = mapped_column(default=0)
    month_limit: Mapped[int] = mapped_column(default=0)
    quarter_limit: Mapped[int] = mapped_column(default=0)
    over_used: Mapped[bool] = mapped_column(default=False)
    recent_count: Mapped[int] = mapped_column(default=0)
    last_asked_at: Mapped[datetime | None]
    next_change_at: Mapped[datetime | None]
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


@compiles(CreateIndex, "sqlite")
def _create_index_on_sqlite(create, compiler, **kw):
    # SQLite sorts NULL first in ascending order already, and an index may not say so.
    return compiler.visit_create_index(create, **kw).replace(" NULLS FIRST", "")
