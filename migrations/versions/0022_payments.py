"""payments: imported bank statements (the file a document, the import a durable queue item) and
their lines (fingerprint unique: a statement imported twice books nothing twice; outcome, rule,
reason and clarification state of each line), payments, their allocations to invoices (payment,
Skonto with its tax shares, return, credit note) and customers' credit from over-payments. Issued
invoices are not touched: what is open on them is read from these rows.

Revision ID: 0022
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa
import kernel.db


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bank_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('source_format', sa.String(length=40), nullable=False),
    sa.Column('account_iban', sa.String(length=34), nullable=False),
    sa.Column('statement_id', sa.String(length=200), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=True),
    sa.Column('to_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('lines_total', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bank_statement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_statement_account_iban'), ['account_iban'], unique=False)
        batch_op.create_index('ix_bank_statement_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('bank_statement_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('amount', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('direction', sa.String(length=6), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=True),
    sa.Column('remittance', sa.Text(), nullable=False),
    sa.Column('end_to_end_id', sa.String(length=100), nullable=True),
    sa.Column('mandate_reference', sa.String(length=100), nullable=True),
    sa.Column('counterparty_name', sa.String(length=200), nullable=True),
    sa.Column('counterparty_iban', sa.String(length=34), nullable=True),
    sa.Column('entry_reference', sa.String(length=100), nullable=True),
    sa.Column('is_return', sa.Boolean(), nullable=False),
    sa.Column('return_reason', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('rule', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('clarification', sa.String(length=24), nullable=True),
    sa.Column('clarified_by', sa.String(length=100), nullable=True),
    sa.Column('clarified_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('clarification_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['statement_id'], ['bank_statement.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fingerprint')
    )
    with op.batch_alter_table('bank_statement_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_statement_line_clarification'), ['clarification'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_statement_line_counterparty_iban'), ['counterparty_iban'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_statement_line_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_statement_line_statement_id'), ['statement_id'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=14), nullable=False),
    sa.Column('reference', sa.String(length=300), nullable=True),
    sa.Column('statement_line_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['statement_line_id'], ['bank_statement_line.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('statement_line_id')
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_customer_date', ['customer_id', 'booking_date'], unique=False)

    op.create_table('customer_credit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('amount', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('payment_id')
    )
    with op.batch_alter_table('customer_credit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_credit_customer_id'), ['customer_id'], unique=False)

    op.create_table('payment_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('credit_note_id', sa.Integer(), nullable=True),
    sa.Column('shares', sa.JSON(), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['credit_note_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_allocation_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_allocation_payment_id'), ['payment_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_allocation_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_allocation_invoice_id'))

    op.drop_table('payment_allocation')
    with op.batch_alter_table('customer_credit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_credit_customer_id'))

    op.drop_table('customer_credit')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_customer_date')

    op.drop_table('payment')
    with op.batch_alter_table('bank_statement_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_statement_line_statement_id'))
        batch_op.drop_index(batch_op.f('ix_bank_statement_line_customer_id'))
        batch_op.drop_index(batch_op.f('ix_bank_statement_line_counterparty_iban'))
        batch_op.drop_index(batch_op.f('ix_bank_statement_line_clarification'))

    op.drop_table('bank_statement_line')
    with op.batch_alter_table('bank_statement', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_statement_due')
        batch_op.drop_index(batch_op.f('ix_bank_statement_account_iban'))

    op.drop_table('bank_statement')
