"""consistency checks per subject: the availability states get their own checks

Revision ID: f0103fd3e009
Revises: aec7d9f73f7f
Create Date: 2026-12-04 19:24:31.907700

"""
from alembic import op
import sqlalchemy as sa

import portal.database


revision = 'f0103fd3e009'
down_revision = 'aec7d9f73f7f'
branch_labels = None
depends_on = None


def upgrade():
    # Two batches: SQLite copies the table for each, and the new column's CHECK must exist
    # before the copy that swaps the unique constraints.
    with op.batch_alter_table('reference_checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.Enum('reference', 'availability', name='check_subject', native_enum=False, create_constraint=True), server_default='reference', nullable=False))
    with op.batch_alter_table('reference_checks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_reference_checks_in_progress'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_reference_checks_subject'), ['subject', 'in_progress'])



def downgrade():
    with op.batch_alter_table('reference_checks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_reference_checks_subject'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_reference_checks_in_progress'), ['in_progress'])
    with op.batch_alter_table('reference_checks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_reference_checks_check_subject'), type_='check')
        batch_op.drop_column('subject')

