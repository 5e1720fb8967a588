"""figures version for the dashboard: one row whose number every transaction that changes
the dashboard's figures raises as it commits, so every app instance sees the change on its
next load instead of up to a minute later

Revision ID: 6c6bb5d533e9
Revises: bf3065e3bb58
Create Date: 2026-12-04 19:03:47.416078

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6c6bb5d533e9'
down_revision = 'bf3065e3bb58'
branch_labels = None
depends_on = None


def upgrade():
    figures_versions = op.create_table('figures_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_figures_versions'))
    )
    op.bulk_insert(figures_versions, [{'id': 1, 'version': 0}])


def downgrade():
    op.drop_table('figures_versions')
