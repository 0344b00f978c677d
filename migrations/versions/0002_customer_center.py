"""customer center: customers, sites, addresses, contacts, number series

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import kernel.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('size', sa.String(length=20), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('vat_id', sa.String(length=20), nullable=True),
    sa.Column('tax_treatment', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_list_id', sa.Integer(), nullable=True),
    sa.Column('payment_days', sa.Integer(), nullable=False),
    sa.Column('skonto_percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=True),
    sa.Column('skonto_days', sa.Integer(), nullable=True),
    sa.Column('delivery_terms', sa.String(length=200), nullable=True),
    sa.Column('credit_limit', kernel.db.ExactDecimal(precision=18, scale=4), nullable=True),
    sa.Column('no_contact', sa.Boolean(), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=True),
    sa.Column('preferred_contact_id', sa.Integer(), nullable=True),
    sa.Column('preferred_site_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_owner'), ['owner'], unique=False)
        batch_op.create_index('ix_customer_status_name', ['status', 'name'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_vat_id'), ['vat_id'], unique=False)

    op.create_table('number_series',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('site',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('vat_id', sa.String(length=20), nullable=True),
    sa.Column('tax_treatment', sa.String(length=20), nullable=True),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_customer_id'), ['customer_id'], unique=False)

    op.create_table('address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('street2', sa.String(length=200), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_city'), ['city'], unique=False)
        batch_op.create_index('ix_address_customer_kind', ['customer_id', 'kind'], unique=False)

    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('salutation', sa.String(length=30), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('mobile', sa.String(length=40), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('marketing_consent', sa.String(length=10), nullable=False),
    sa.Column('consent_changed_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('receives_offers', sa.Boolean(), nullable=False),
    sa.Column('receives_invoices', sa.Boolean(), nullable=False),
    sa.Column('receives_dunning', sa.Boolean(), nullable=False),
    sa.Column('no_contact', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_email'), ['email'], unique=False)

    # customer <-> contact/site refer to each other: these two come once all three tables exist
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_customer_preferred_contact', 'contact', ['preferred_contact_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_customer_preferred_site', 'site', ['preferred_site_id'], ['id'],
                                    ondelete='SET NULL')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_app_user_customer', 'customer', ['customer_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint('fk_app_user_customer', type_='foreignkey')
        batch_op.drop_column('customer_id')

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_constraint('fk_customer_preferred_contact', type_='foreignkey')
        batch_op.drop_constraint('fk_customer_preferred_site', type_='foreignkey')

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_email'))
        batch_op.drop_index(batch_op.f('ix_contact_customer_id'))

    op.drop_table('contact')
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.drop_index('ix_address_customer_kind')
        batch_op.drop_index(batch_op.f('ix_address_city'))

    op.drop_table('address')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_customer_id'))

    op.drop_table('site')
    op.drop_table('number_series')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_vat_id'))
        batch_op.drop_index('ix_customer_status_name')
        batch_op.drop_index(batch_op.f('ix_customer_owner'))
        batch_op.drop_index(batch_op.f('ix_customer_name'))

    op.drop_table('customer')
