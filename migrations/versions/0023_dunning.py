"""dunning: a case per overdue invoice (at most one running: open_invoice_id unique, cleared when
the case ends) and its letters (one per level: unique case + level) with the figures they claimed;
the editors of a draft invoice.

Revision ID: 0023
Revises: 0022
"""
from alembic import op
import sqlalchemy as sa
import kernel.db


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # who changed a draft invoice: four eyes keeps them from approving it (a plain ADD COLUMN: SQLite
    # keeps the table, and with it the triggers that guard issued invoices)
    op.add_column('invoice', sa.Column('editors', sa.JSON(), nullable=True))
    op.create_table('dunning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('open_invoice_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('consumer', sa.Boolean(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=300), nullable=True),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open_invoice_id')
    )
    with op.batch_alter_table('dunning', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dunning_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dunning_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dunning_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('dunning_letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dunning_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('letter_date', sa.Date(), nullable=False),
    sa.Column('pay_by', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('open_amount', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('interest_from', sa.Date(), nullable=True),
    sa.Column('interest', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('interest_periods', sa.JSON(), nullable=False),
    sa.Column('fee', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('flat_fee', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('fees_before', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('total_claim', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dunning_id'], ['dunning.id'], ),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dunning_id', 'level', name='uq_dunning_letter_level')
    )
    with op.batch_alter_table('dunning_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dunning_letter_dunning_id'), ['dunning_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dunning_letter_invoice_id'), ['invoice_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('dunning_letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dunning_letter_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_dunning_letter_dunning_id'))

    op.drop_table('dunning_letter')
    with op.batch_alter_table('dunning', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dunning_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_dunning_instance_id'))
        batch_op.drop_index(batch_op.f('ix_dunning_customer_id'))

    op.drop_table('dunning')
    op.drop_column('invoice', 'editors')
