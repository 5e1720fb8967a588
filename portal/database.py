"""The database: declarative base (naming convention, UTC timestamps, enum columns with
CHECKs), the Flask-SQLAlchemy object, and the commit helpers."""

from __future__ import annotations

import enum
import logging
from datetime import UTC, datetime

from collections.abc import Callable

from flask import has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator, event
from sqlalchemy.orm import DeclarativeBase, Session, registry

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def enum_type(enum_class: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR holding the enum's values, guarded by a named CHECK constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_class),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


# The highest page any list offers: a page number in a URL is clamped to it, so that no
# offset computed from it overflows the database's 64-bit integers (SQLite raises, and
# PostgreSQL refuses, an OFFSET of 10**20).
MAX_PAGE = 1_000_000
MAX_PER_PAGE = 100


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))


class PortalSQLAlchemy(SQLAlchemy):
    def paginate(self, select, *, page=None, per_page=None, max_per_page=None, error_out=True, count=True):
        """Flask-SQLAlchemy's pagination, with the page and page size read from the URL
        clamped to what the database can count to (a huge ``?page=`` is the last page
        there could be, empty, never an overflow)."""
        if has_request_context():
            if page is None:
                page = request.args.get("page", 1, type=int) or 1
            if per_page is None:
                per_page = clamp(request.args.get("per_page", 20, type=int) or 20, 1, MAX_PER_PAGE)
        page = clamp(page if page is not None else 1, 1, MAX_PAGE)
        return super().paginate(
            select, page=page, per_page=per_page, max_per_page=max_per_page, error_out=error_out, count=count
        )


db = PortalSQLAlchemy(model_class=Base)


def contains_text(column, text: str):
    """``column`` contains ``text``, ignoring case, with every character of ``text`` taken
    literally: a person's ``%``, ``_`` (and the escape character ``/``) are escaped, so a
    search cannot be turned into a pattern that probes the data one character at a time.
    Every LIKE on a person's text goes through here."""
    return column.icontains(text, autoescape=True)


# --- one transaction per request -----------------------------------------------------------
# Services flush; the web layer (or a CLI command, or a job) commits once with ``commit()``.
# Work that must only happen once the change is durable (delivering an outbox message) is
# registered with ``after_commit`` and run right after the commit; a rollback drops it.

_AFTER_COMMIT = "portal_after_commit"


def after_commit(func: Callable[..., object], *args: object) -> None:
    db.session.info.setdefault(_AFTER_COMMIT, []).append((func, args))


def commit() -> None:
    db.session.commit()
    pending = db.session.info.pop(_AFTER_COMMIT, [])
    for func, args in pending:
        try:
            func(*args)
        except Exception:  # noqa: BLE001
            # The change is durable and cannot be undone by this failure (typically the job
            # queue, Redis, is away): what the work was for waits in a durable row (an
            # outbox message) that the periodic drain delivers when the queue is back.
            # Failing the request now would only turn a saved change into a 500.
            log.exception("work after commit failed (%s); left for the periodic drain", getattr(func, "__name__", func))


def rollback() -> None:
    db.session.rollback()
    db.session.info.pop(_AFTER_COMMIT, None)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit_work(session: Session, previous_transaction) -> None:
    # Also for a plain ``db.session.rollback()`` (or a failed flush): otherwise the work of
    # the rolled-back transaction would run at the next commit. A rolled-back savepoint
    # leaves the enclosing transaction's work alone.
    if previous_transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)
