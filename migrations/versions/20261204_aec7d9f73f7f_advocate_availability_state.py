"""advocate availability state: each advocate's askable window, counts and ranking, kept
current by the portal so that "available now" and the usage lists read indexes instead of
recounting asks. Rows are filled by ``flask --app wsgi availability rebuild`` (``make run``
runs it after migrating) and, for any advocate still without one, by the periodic job.

Revision ID: aec7d9f73f7f
Revises: 5e1f0c7d2b94
Create Date: 2026-12-04 18:58:15.250560

"""
from alembic import op
import sqlalchemy as sa

import portal.database


revision = 'aec7d9f73f7f'
down_revision = '5e1f0c7d2b94'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('advocate_availability',
    sa.Column('advocate_id', sa.Integer(), nullable=False),
    sa.Column('askable_from', portal.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('askable_until', portal.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('askable', sa.Boolean(), nullable=False),
    sa.Column('month_used', sa.Integer(), nullable=False),
    sa.Column('quarter_used', sa.Integer(), nullable=False),
    sa.Column('month_limit', sa.Integer(), nullable=False),
    sa.Column('quarter_limit', sa.Integer(), nullable=False),
    sa.Column('over_used', sa.Boolean(), nullable=False),
    sa.Column('recent_count', sa.Integer(), nullable=False),
    sa.Column('last_asked_at', portal.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_change_at', portal.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refreshed_at', portal.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['advocate_id'], ['advocates.id'], name=op.f('fk_advocate_availability_advocate_id_advocates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('advocate_id', name=op.f('pk_advocate_availability'))
    )
    with op.batch_alter_table('advocate_availability', schema=None) as batch_op:
        batch_op.create_index('ix_advocate_availability_askable', ['askable_from', 'askable_until'], unique=False, postgresql_where=sa.text('askable_from IS NOT NULL'), sqlite_where=sa.text('askable_from IS NOT NULL'))
        batch_op.create_index('ix_advocate_availability_next_change_at', ['next_change_at'], unique=False)
        batch_op.create_index('ix_advocate_availability_over_used', ['advocate_id'], unique=False, postgresql_where=sa.text('over_used'), sqlite_where=sa.text('over_used'))
        # Never asked first: PostgreSQL sorts NULL last unless told, SQLite first (and may not be told).
        last_asked = sa.text('last_asked_at NULLS FIRST') if op.get_bind().dialect.name == 'postgresql' else 'last_asked_at'
        batch_op.create_index('ix_advocate_availability_rank', ['recent_count', last_asked, 'advocate_id'], unique=False)



def downgrade():
    with op.batch_alter_table('advocate_availability', schema=None) as batch_op:
        batch_op.drop_index('ix_advocate_availability_rank')
        batch_op.drop_index('ix_advocate_availability_over_used', postgresql_where=sa.text('over_used'), sqlite_where=sa.text('over_used'))
        batch_op.drop_index('ix_advocate_availability_next_change_at')
        batch_op.drop_index('ix_advocate_availability_askable', postgresql_where=sa.text('askable_from IS NOT NULL'), sqlite_where=sa.text('askable_from IS NOT NULL'))

    op.drop_table('advocate_availability')
