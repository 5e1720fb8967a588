"""invitations followed up: when a staff nomination's invitation was sent, how many
reminders the customer has had, and when it expired unanswered; invitations already out
count from when their record was made

Revision ID: 5dfb306221cd
Revises: 6c6bb5d533e9
Create Date: 2026-12-04 19:16:02.562717

"""
from alembic import op
import sqlalchemy as sa

import portal.database


# revision identifiers, used by Alembic.
revision = '5dfb306221cd'
down_revision = '6c6bb5d533e9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('advocates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_at', portal.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('invitation_reminders', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('invitation_expired_at', portal.database.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE advocates SET invited_at = created_at WHERE status = 'invited' AND source = 'staff'"
    )


def downgrade():
    with op.batch_alter_table('advocates', schema=None) as batch_op:
        batch_op.drop_column('invitation_expired_at')
        batch_op.drop_column('invitation_reminders')
        batch_op.drop_column('invited_at')
