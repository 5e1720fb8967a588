"""Files people upload (review screenshots, reward images): kept in the database, never on an
app server's disk, so that any number of app servers serve them (CONVENTIONS: scaling out)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from portal.database import db, utcnow


class Upload(db.Model):
    __tablename__ = "uploads"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who uploaded it; whoever serves it checks who may see it (the feature that owns it).
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Decided from the content, never from the name or the browser's claim.
    mimetype: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # Loaded only when served: listing pages never pull the bytes.
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
