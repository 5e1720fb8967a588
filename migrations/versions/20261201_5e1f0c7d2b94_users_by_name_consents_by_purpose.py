"""users by name, consents by purpose: the directory and the API list advocates by name
and count the published

Without the first, every directory page and every API page sorted all users to show 25 of
them (at 100k advocates, 50-70 ms and a sort spilled to disk); with it a page walks the
index and stops. The second lets the published set (approved and consenting to be listed)
be counted from an index instead of reading every consent.

Revision ID: 5e1f0c7d2b94
Revises: aa0acedfca52
Create Date: 2026-12-01 16:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e1f0c7d2b94'
down_revision = 'aa0acedfca52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_name'), ['name'], unique=False)

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('ix_consents_purpose_granted', ['purpose', 'granted', 'advocate_id'], unique=False)


def downgrade():
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_purpose_granted')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_name'))
