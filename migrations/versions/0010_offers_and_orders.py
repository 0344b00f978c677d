"""offers, their lines, approvals and answer links; orders; guards of human tasks

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
import kernel.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('billing_address_id', sa.Integer(), nullable=True),
    sa.Column('delivery_address_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_list_id', sa.Integer(), nullable=True),
    sa.Column('payment_days', sa.Integer(), nullable=False),
    sa.Column('skonto_percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=True),
    sa.Column('skonto_days', sa.Integer(), nullable=True),
    sa.Column('delivery_terms', sa.String(length=200), nullable=True),
    sa.Column('tax_treatment', sa.String(length=20), nullable=False),
    sa.Column('header_discount_percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('intro_text', sa.Text(), nullable=True),
    sa.Column('closing_text', sa.Text(), nullable=True),
    sa.Column('net_total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('tax_total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('gross_total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('approval_round', sa.Integer(), nullable=False),
    sa.Column('pdf_document_id', sa.Integer(), nullable=True),
    sa.Column('pdf_content_hash', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('customer_reminded_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer_note', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['billing_address_id'], ['address.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['delivery_address_id'], ['address.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], ),
    sa.ForeignKeyConstraint(['pdf_document_id'], ['document.id'], name='fk_offer_pdf'),
    sa.ForeignKeyConstraint(['previous_id'], ['offer.id'], name='fk_offer_previous'),
    sa.ForeignKeyConstraint(['price_list_id'], ['price_list.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number', 'revision', name='uq_offer_number_revision')
    )
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.create_index('ix_offer_customer_status', ['customer_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_number'), ['number'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('offer_answer_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=40), nullable=False),
    sa.Column('expires_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_for', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nonce')
    )
    with op.batch_alter_table('offer_answer_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_answer_link_offer_id'), ['offer_id'], unique=False)

    op.create_table('offer_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('approval_round', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=False),
    sa.Column('approver_group', sa.String(length=100), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('human_task_id', sa.Integer(), nullable=True),
    sa.Column('voided_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('human_task_id')
    )
    with op.batch_alter_table('offer_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_approval_offer_id'), ['offer_id'], unique=False)

    op.create_table('offer_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('quantity', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('list_price', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('price_rule', sa.String(length=200), nullable=False),
    sa.Column('discount_percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('unit_cost', kernel.db.ExactDecimal(precision=18, scale=4), nullable=True),
    sa.Column('net', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('offer_id', 'position')
    )
    op.create_table('sales_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('billing_address_id', sa.Integer(), nullable=True),
    sa.Column('delivery_address_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payment_days', sa.Integer(), nullable=False),
    sa.Column('skonto_percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=True),
    sa.Column('skonto_days', sa.Integer(), nullable=True),
    sa.Column('delivery_terms', sa.String(length=200), nullable=True),
    sa.Column('tax_treatment', sa.String(length=20), nullable=False),
    sa.Column('header_discount_percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('net_total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('tax_total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('gross_total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('accepted_via', sa.String(length=20), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['billing_address_id'], ['address.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['delivery_address_id'], ['address.id'], ),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], ),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('offer_id')
    )
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_customer_id'), ['customer_id'], unique=False)

    op.create_table('sales_order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('quantity', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('net', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sales_order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_line_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guard', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('guard')

    with op.batch_alter_table('sales_order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_line_order_id'))

    op.drop_table('sales_order_line')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_customer_id'))

    op.drop_table('sales_order')
    op.drop_table('offer_line')
    with op.batch_alter_table('offer_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_approval_offer_id'))

    op.drop_table('offer_approval')
    with op.batch_alter_table('offer_answer_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_answer_link_offer_id'))

    op.drop_table('offer_answer_link')
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_offer_number'))
        batch_op.drop_index('ix_offer_customer_status')

    op.drop_table('offer')
