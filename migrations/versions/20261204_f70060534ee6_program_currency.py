"""program currency: every amount in the portal is in one ISO 4217 currency, an admin setting

Revision ID: f70060534ee6
Revises: 5dfb306221cd
Create Date: 2026-12-04 19:00:09.319750

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f70060534ee6'
down_revision = '5dfb306221cd'
branch_labels = None
depends_on = None


def upgrade():
    # Programs that exist already keep the amounts they typed, read as US dollars (what the
    # portal's help texts assumed) until an admin chooses their currency.
    with op.batch_alter_table('reward_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='USD', nullable=False))
        batch_op.create_check_constraint(op.f('ck_reward_settings_currency_is_a_code'), 'length(currency) = 3')


def downgrade():
    with op.batch_alter_table('reward_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_reward_settings_currency_is_a_code'), type_='check')
        batch_op.drop_column('currency')
