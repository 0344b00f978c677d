"""invoicing: deliveries (per order line, with the date or period of supply), milestones of orders
billed by down payments, invoices and credit notes with their lines and the files they were issued
as; orders follow what was delivered and invoiced (confirmed … invoiced, closed); customers say
whether they are consumers, take collective invoices and which e-invoice they receive; products say
whether they are goods or services and whether they recur.

An issued invoice and its lines are unchangeable in the database itself: triggers refuse any UPDATE
or DELETE of an issued invoice and any INSERT, UPDATE or DELETE of its lines.

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa
import kernel.db


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

IMMUTABLE = "an issued invoice cannot change: correct it by a credit note"

POSTGRESQL_TRIGGERS = f"""
CREATE FUNCTION refuse_change_of_issued_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'issued' THEN
    RAISE EXCEPTION '{IMMUTABLE} (invoice %)', OLD.number USING ERRCODE = '55000';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER issued_invoice_is_immutable BEFORE UPDATE OR DELETE ON invoice
  FOR EACH ROW EXECUTE FUNCTION refuse_change_of_issued_invoice();
CREATE FUNCTION refuse_change_of_issued_invoice_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM invoice WHERE id = OLD.invoice_id AND status = 'issued') THEN
    RAISE EXCEPTION '{IMMUTABLE} (a line of invoice %)', OLD.invoice_id USING ERRCODE = '55000';
  END IF;
  IF TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM invoice WHERE id = NEW.invoice_id AND status = 'issued') THEN
    RAISE EXCEPTION '{IMMUTABLE} (a line of invoice %)', NEW.invoice_id USING ERRCODE = '55000';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER issued_invoice_lines_are_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_line
  FOR EACH ROW EXECUTE FUNCTION refuse_change_of_issued_invoice_line();
"""

_ISSUED_LINE = "(SELECT status FROM invoice WHERE id = {row}.invoice_id) = 'issued'"
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER issued_invoice_no_update BEFORE UPDATE ON invoice WHEN OLD.status = 'issued' "
    f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END",
    f"CREATE TRIGGER issued_invoice_no_delete BEFORE DELETE ON invoice WHEN OLD.status = 'issued' "
    f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END",
    f"CREATE TRIGGER issued_invoice_line_no_insert BEFORE INSERT ON invoice_line WHEN {_ISSUED_LINE.format(row='NEW')} "
    f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END",
    f"CREATE TRIGGER issued_invoice_line_no_update BEFORE UPDATE ON invoice_line "
    f"WHEN {_ISSUED_LINE.format(row='OLD')} OR {_ISSUED_LINE.format(row='NEW')} "
    f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END",
    f"CREATE TRIGGER issued_invoice_line_no_delete BEFORE DELETE ON invoice_line WHEN {_ISSUED_LINE.format(row='OLD')} "
    f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END",
]
SQLITE_TRIGGER_NAMES = ("issued_invoice_no_update", "issued_invoice_no_delete", "issued_invoice_line_no_insert",
                        "issued_invoice_line_no_update", "issued_invoice_line_no_delete")

ORDER_STATES = {'open': 'confirmed', 'fulfilled': 'delivered'}
sales_order = sa.table('sales_order', sa.column('status', sa.String))


def upgrade() -> None:
    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_order_id'), ['order_id'], unique=False)

    op.create_table('order_milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'position', name='uq_order_milestone_position')
    )
    with op.batch_alter_table('order_milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_milestone_order_id'), ['order_id'], unique=False)

    op.create_table('delivery_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('service_from', sa.Date(), nullable=False),
    sa.Column('service_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], ),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('delivery_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_line_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_line_order_line_id'), ['order_line_id'], unique=False)

    op.create_table('invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('billing_address_id', sa.Integer(), nullable=True),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('reopens_delivery', sa.Boolean(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('released_by', sa.String(length=100), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('tax_treatment', sa.String(length=20), nullable=False),
    sa.Column('einvoice_format', sa.String(length=20), nullable=False),
    sa.Column('buyer_reference', sa.String(length=100), nullable=True),
    sa.Column('customer_order_reference', sa.String(length=100), nullable=True),
    sa.Column('payment_days', sa.Integer(), nullable=False),
    sa.Column('skonto_percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=True),
    sa.Column('skonto_days', sa.Integer(), nullable=True),
    sa.Column('header_discount_percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('manual_prices', sa.Boolean(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('skonto_until', sa.Date(), nullable=True),
    sa.Column('skonto_amount', kernel.db.ExactDecimal(precision=18, scale=4), nullable=True),
    sa.Column('service_from', sa.Date(), nullable=True),
    sa.Column('service_to', sa.Date(), nullable=True),
    sa.Column('net_total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('tax_total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('gross_total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('prepaid_total', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('amount_due', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('tax_groups', sa.JSON(), nullable=False),
    sa.Column('seller', sa.JSON(), nullable=True),
    sa.Column('buyer', sa.JSON(), nullable=True),
    sa.Column('issued_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('issued_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['billing_address_id'], ['address.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['corrects_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['milestone_id'], ['order_milestone.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_corrects_id'), ['corrects_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_invoice_customer_status', ['customer_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_order_id'), ['order_id'], unique=False)

    op.create_table('invoice_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invoice_id', 'kind', name='uq_invoice_document_kind')
    )
    with op.batch_alter_table('invoice_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_document_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=True),
    sa.Column('delivery_line_id', sa.Integer(), nullable=True),
    sa.Column('credited_line_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('sku', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('quantity', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('unit_price', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('tax_rate', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('tax_category', sa.String(length=2), nullable=False),
    sa.Column('goods', sa.Boolean(), nullable=False),
    sa.Column('net', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('service_from', sa.Date(), nullable=True),
    sa.Column('service_to', sa.Date(), nullable=True),
    sa.Column('price_changed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['credited_line_id'], ['invoice_line.id'], ),
    sa.ForeignKeyConstraint(['delivery_line_id'], ['delivery_line.id'], ),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_line.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_credited_line_id'), ['credited_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_line_delivery_line_id'), ['delivery_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_line_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_line_order_line_id'), ['order_line_id'], unique=False)

    op.create_table('invoice_deduction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('down_payment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['down_payment_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('down_payment_id')
    )
    with op.batch_alter_table('invoice_deduction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_deduction_invoice_id'), ['invoice_id'], unique=False)

    # plain ADD COLUMN (SQLite has it): a batch would copy the tables and reflect every table they refer to
    op.add_column('customer', sa.Column('consumer', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('customer', sa.Column('collective_invoice', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column('customer', sa.Column('einvoice_format', sa.String(length=20), nullable=False,
                                        server_default='factur_x'))
    op.add_column('customer', sa.Column('buyer_reference', sa.String(length=100), nullable=True))
    op.add_column('product', sa.Column('kind', sa.String(length=10), nullable=False, server_default='service'))
    op.add_column('product', sa.Column('billing_interval', sa.String(length=10), nullable=True))
    op.add_column('sales_order', sa.Column('billing_plan', sa.String(length=20), nullable=False,
                                           server_default='on_delivery'))
    op.add_column('sales_order', sa.Column('customer_order_reference', sa.String(length=100), nullable=True))
    op.add_column('sales_order_line', sa.Column('goods', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('sales_order_line', sa.Column('billing_interval', sa.String(length=10), nullable=True))
    op.add_column('sales_order_line', sa.Column('delivered_quantity', kernel.db.ExactDecimal(precision=18, scale=4),
                                                nullable=False, server_default='0'))
    op.add_column('sales_order_line', sa.Column('invoiced_quantity', kernel.db.ExactDecimal(precision=18, scale=4),
                                                nullable=False, server_default='0'))
    op.add_column('sales_order_line', sa.Column('billed_until', sa.Date(), nullable=True))
    for old, new in ORDER_STATES.items():
        op.execute(sales_order.update().where(sales_order.c.status == old).values(status=new))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRESQL_TRIGGERS)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER issued_invoice_lines_are_immutable ON invoice_line")
        op.execute("DROP TRIGGER issued_invoice_is_immutable ON invoice")
        op.execute("DROP FUNCTION refuse_change_of_issued_invoice_line()")
        op.execute("DROP FUNCTION refuse_change_of_issued_invoice()")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER {name}")
    for old, new in ORDER_STATES.items():
        op.execute(sales_order.update().where(sales_order.c.status == new).values(status=old))
    for state in ('partly_delivered', 'partly_invoiced'):
        op.execute(sales_order.update().where(sales_order.c.status == state).values(status='open'))
    op.execute(sales_order.update().where(sales_order.c.status == 'closed').values(status='invoiced'))
    for table, columns in (('sales_order_line', ('billed_until', 'invoiced_quantity', 'delivered_quantity',
                                                 'billing_interval', 'goods')),
                           ('sales_order', ('customer_order_reference', 'billing_plan')),
                           ('product', ('billing_interval', 'kind')),
                           ('customer', ('buyer_reference', 'einvoice_format', 'collective_invoice', 'consumer'))):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
    for table in ('invoice_document', 'invoice_deduction', 'invoice_line', 'invoice', 'delivery_line', 'order_milestone', 'delivery'):
        op.drop_table(table)
