"""queue kinds for board applications, review proofs and reward claims

Revision ID: 7a41c2e9b0d3
Revises: 3160ef233bbd
Create Date: 2026-12-01 08:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a41c2e9b0d3'
down_revision = '3160ef233bbd'
branch_labels = None
depends_on = None

OLD_KINDS = "'nomination', 'invitation', 'profile_change', 'reference_request'"
NEW_KINDS = OLD_KINDS + ", 'board_application', 'review_proof', 'reward_claim'"


def upgrade():
    # The queue's enum CHECK grows by the decisions boards, campaigns and rewards bring.
    with op.batch_alter_table('queue_items', schema=None) as batch_op:
        batch_op.drop_constraint('queue_kind', type_='check')
        batch_op.create_check_constraint('queue_kind', f"kind IN ({NEW_KINDS})")


def downgrade():
    op.execute("DELETE FROM queue_items WHERE kind IN ('board_application', 'review_proof', 'reward_claim')")
    with op.batch_alter_table('queue_items', schema=None) as batch_op:
        batch_op.drop_constraint('queue_kind', type_='check')
        batch_op.create_check_constraint('queue_kind', f"kind IN ({OLD_KINDS})")
