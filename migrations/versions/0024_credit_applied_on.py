"""the company day a customer's credit was applied to an invoice (payment allocations of kind
credit): the DATEV hand-over books the credit's use in that day's period.

Revision ID: 0024
Revises: 0023
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('payment_allocation', sa.Column('applied_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment_allocation') as batch_op:
        batch_op.drop_column('applied_on')
