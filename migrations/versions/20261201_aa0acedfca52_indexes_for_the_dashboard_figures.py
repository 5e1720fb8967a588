"""indexes for the dashboard's figures: asks by when they were sent and completed,
advocates by when they were nominated

The figures read one period's asks (sent in a quarter, completed in it, sent in the last
months for over- and under-use) and one quarter's nominations; without these every figure
scanned the whole two years of asks or every advocate.

Revision ID: aa0acedfca52
Revises: 490156ea75d3
Create Date: 2026-12-01 12:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'aa0acedfca52'
down_revision = '490156ea75d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('asks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asks_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_asks_completed_at'), ['completed_at'], unique=False)

    with op.batch_alter_table('advocates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advocates_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('advocates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advocates_created_at'))

    with op.batch_alter_table('asks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asks_completed_at'))
        batch_op.drop_index(batch_op.f('ix_asks_created_at'))
