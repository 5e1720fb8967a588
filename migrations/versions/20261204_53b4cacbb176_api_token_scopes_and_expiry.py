"""API token scopes and expiry

Tokens made before scopes existed could both read advocates and report account health; they
keep working with both scopes, so no connected system stops. New tokens get only the scopes
chosen for them.

Revision ID: 53b4cacbb176
Revises: f0103fd3e009
Create Date: 2026-12-04 19:21:04.024145

"""
from alembic import op
import sqlalchemy as sa

import portal.database


# revision identifiers, used by Alembic.
revision = '53b4cacbb176'
down_revision = 'f0103fd3e009'
branch_labels = None
depends_on = None


EXISTING_SCOPES = '["advocates:read", "accounts:write"]'


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('expires_at', portal.database.UTCDateTime(timezone=True), nullable=True))
    op.execute(sa.text(f"UPDATE api_tokens SET scopes = '{EXISTING_SCOPES}'"))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scopes')
