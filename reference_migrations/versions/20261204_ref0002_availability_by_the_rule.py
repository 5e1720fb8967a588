"""reference schema v2: available_now follows the whole contact rule; next_available_at

Version 1 set available_now from the pause and the account's health only, so sellers saw
"available" for advocates at their limits or in a cool-down or blackout. Version 2 publishes
the team's answer: available_now by the whole rule, unavailable_reason with its code, and
when the next ask is allowed. The rows are recomputed by the portal's next rebuild
(``flask --app wsgi reference rebuild``), which the upgrade notes in the README ask for.

Revision ID: ref0002
Revises: ref0001
Create Date: 2026-12-04 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.database

revision = "ref0002"
down_revision = "ref0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reference_advocates") as batch:
        batch.add_column(sa.Column("next_available_at", portal.database.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("reference_advocates") as batch:
        batch.drop_column("next_available_at")
