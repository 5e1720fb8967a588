"""The internal reference database that sales, marketing and CRM/BI tools read (SPEC §9).

It is a separate database (``PORTAL_REFERENCE_DATABASE_URL``) with its own schema, versioned
by its own Alembic migrations in ``reference_migrations/`` (version table
``reference_schema_version``), never by the portal's. The portal is its only writer; see
``portal/services/publishing.py`` for what is written and when, and the README for the
documented columns.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import current_app
from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, Engine, Integer, MetaData, String, Table, Text, create_engine

from portal.config import ROOT, sqlalchemy_url
from portal.database import NAMING_CONVENTION, UTCDateTime

# The schema version sales tools can rely on; bump it (and add a migration) on any change.
SCHEMA_VERSION = 2
MIGRATIONS = ROOT / "reference_migrations"
VERSION_TABLE = "reference_schema_version"

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# One row per published advocate; a column is empty (NULL) when its purpose is not consented.
advocates = Table(
    "reference_advocates",
    metadata,
    Column("advocate_id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("job_title", String(150), nullable=False),
    Column("company", String(200), nullable=False),
    Column("logo_allowed", Boolean, nullable=False),
    Column("industry", String(120)),
    Column("country", String(2), index=True),
    Column("country_name", String(100)),
    Column("regions", JSON, nullable=False),
    Column("products", JSON, nullable=False),
    Column("use_cases", JSON, nullable=False),
    Column("activity_types", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("story", Text),
    Column("consented_purposes", JSON, nullable=False),
    Column("available_now", Boolean, nullable=False, index=True),
    Column("unavailable_reason", String(20)),
    Column("paused_until", Date),
    # Version 2: available_now is the whole contact rule (limits, cool-down, blackouts too),
    # and this says when the next ask is allowed (NULL: available now, or not within a year).
    Column("next_available_at", UTCDateTime()),
    Column("published_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Bookkeeping of the feed (not for sales tools): the newest event applied per advocate, so an
# older event processed late never overwrites newer data (or brings back a withdrawal) ...
sync_state = Table(
    "reference_sync_state",
    metadata,
    Column("advocate_id", Integer, primary_key=True, autoincrement=False),
    Column("last_event_id", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# ... and every event applied, once: a replay finds its id here and changes nothing.
applied_events = Table(
    "reference_applied_events",
    metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("advocate_id", Integer, nullable=False, index=True),
    Column("action", String(12), nullable=False),
    Column("applied_at", UTCDateTime(), nullable=False),
)


def engine() -> Engine:
    """The engine for the configured URL (one per URL and app: the URL may change in tests
    that make the database unreachable and bring it back)."""
    url = sqlalchemy_url(current_app.config["REFERENCE_DATABASE_URL"])
    engines: dict = current_app.extensions.setdefault("reference_engines", {})
    if url not in engines:
        options: dict = {"pool_pre_ping": True}
        if url.startswith("postgresql"):
            options["connect_args"] = {"connect_timeout": 5}
        engines[url] = create_engine(url, **options)
    return engines[url]


def dispose() -> None:
    for eng in current_app.extensions.pop("reference_engines", {}).values():
        eng.dispose()


def _alembic_config(connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(revision: str = "head") -> None:
    """Create or migrate the reference database's schema."""
    url = sqlalchemy_url(current_app.config["REFERENCE_DATABASE_URL"])
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with engine().begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(revision: str) -> None:
    with engine().begin() as connection:
        command.downgrade(_alembic_config(connection), revision)
