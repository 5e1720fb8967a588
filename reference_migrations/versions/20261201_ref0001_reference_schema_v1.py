"""reference schema v1: published advocates, feed sync state, applied events

Revision ID: ref0001
Revises:
Create Date: 2026-12-01 08:15:00

"""
from alembic import op
import sqlalchemy as sa

import portal.database

revision = "ref0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reference_advocates",
        sa.Column("advocate_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("job_title", sa.String(length=150), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("logo_allowed", sa.Boolean(), nullable=False),
        sa.Column("industry", sa.String(length=120), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("country_name", sa.String(length=100), nullable=True),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("use_cases", sa.JSON(), nullable=False),
        sa.Column("activity_types", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("story", sa.Text(), nullable=True),
        sa.Column("consented_purposes", sa.JSON(), nullable=False),
        sa.Column("available_now", sa.Boolean(), nullable=False),
        sa.Column("unavailable_reason", sa.String(length=20), nullable=True),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("published_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("advocate_id", name=op.f("pk_reference_advocates")),
    )
    with op.batch_alter_table("reference_advocates") as batch_op:
        batch_op.create_index(batch_op.f("ix_reference_advocates_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_reference_advocates_available_now"), ["available_now"], unique=False)
    op.create_table(
        "reference_sync_state",
        sa.Column("advocate_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("advocate_id", name=op.f("pk_reference_sync_state")),
    )
    op.create_table(
        "reference_applied_events",
        sa.Column("event_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("advocate_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("applied_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_reference_applied_events")),
    )
    with op.batch_alter_table("reference_applied_events") as batch_op:
        batch_op.create_index(batch_op.f("ix_reference_applied_events_advocate_id"), ["advocate_id"], unique=False)


def downgrade():
    op.drop_table("reference_applied_events")
    op.drop_table("reference_sync_state")
    op.drop_table("reference_advocates")
