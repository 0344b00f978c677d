"""direct debits and DATEV exports: customers' SEPA mandates (unique reference; FRST until the first
run used it, RCUR after), direct debit runs (one validated pain.008 file each, kept in the content
store) with their items (an invoice is collected by one run only: unique invoice), and the records
of DATEV exports handed to the tax advisor (period, who, when, rows, the ZIP in the content store).

Revision ID: 0021
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa
import kernel.db


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('datev_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('document_count', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=100), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('direct_debit_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collection_date', sa.Date(), nullable=False),
    sa.Column('scheme', sa.String(length=4), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('filename', sa.String(length=100), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('direct_debit_mandate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=35), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('debtor_name', sa.String(length=70), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('scheme', sa.String(length=4), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('first_run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('revoked_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['first_run_id'], ['direct_debit_run.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('direct_debit_mandate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_direct_debit_mandate_customer_id'), ['customer_id'], unique=False)

    op.create_table('direct_debit_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('mandate_id', sa.Integer(), nullable=False),
    sa.Column('amount', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('end_to_end_id', sa.String(length=35), nullable=False),
    sa.Column('sequence_type', sa.String(length=4), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['mandate_id'], ['direct_debit_mandate.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['direct_debit_run.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invoice_id', name='uq_direct_debit_item_invoice')
    )
    with op.batch_alter_table('direct_debit_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_direct_debit_item_mandate_id'), ['mandate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_direct_debit_item_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('direct_debit_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_direct_debit_item_run_id'))
        batch_op.drop_index(batch_op.f('ix_direct_debit_item_mandate_id'))

    op.drop_table('direct_debit_item')
    with op.batch_alter_table('direct_debit_mandate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_direct_debit_mandate_customer_id'))

    op.drop_table('direct_debit_mandate')
    op.drop_table('direct_debit_run')
    op.drop_table('datev_export')
