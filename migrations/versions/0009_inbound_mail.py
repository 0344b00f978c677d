"""inbound mail: every received message once, with its route; contacts whose address bounced

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
import kernel.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailbox', sa.String(length=100), nullable=False),
    sa.Column('uid', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.String(length=250), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=254), nullable=True),
    sa.Column('sender_name', sa.String(length=200), nullable=True),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('sent_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('in_reply_to', sa.JSON(), nullable=False),
    sa.Column('references', sa.JSON(), nullable=False),
    sa.Column('reply_text', sa.Text(), nullable=False),
    sa.Column('automatic', sa.String(length=20), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('route', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('record_type', sa.String(length=30), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('delivered_message', sa.String(length=100), nullable=True),
    sa.Column('defects', sa.JSON(), nullable=False),
    sa.Column('received_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('routed_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], ),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_mail_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_inbound_mail_sender', ['sender', 'received_at'], unique=False)
        batch_op.create_index('ix_inbound_mail_state', ['state', 'received_at'], unique=False)

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_bounced_at', kernel.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('email_bounced_at')

    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_mail_state')
        batch_op.drop_index('ix_inbound_mail_sender')
        batch_op.drop_index(batch_op.f('ix_inbound_mail_customer_id'))

    op.drop_table('inbound_mail')
