"""sales: leads, opportunities, phases, project groups

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import kernel.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PHASES = [  # a copy as of this migration (domain.sales.models.DEFAULT_PHASES may change later)
    ('qualification', 'Qualifizierung', 10, 14, None),
    ('analysis', 'Bedarfsanalyse', 25, 21, None),
    ('offer', 'Angebot', 50, 30, None),
    ('negotiation', 'Verhandlung', 75, 21, None),
    ('won', 'Gewonnen', 100, None, 'won'),
    ('lost', 'Verloren', 0, None, 'lost'),
]


def upgrade() -> None:
    op.create_table('opportunity_phase',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('max_days', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=4), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=15), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('disqualified_reason', sa.String(length=300), nullable=True),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_owner'), ['owner'], unique=False)
        batch_op.create_index('ix_lead_status_created', ['status', 'created_at'], unique=False)

    op.create_table('opportunity_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('opportunity_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_group_customer_id'), ['customer_id'], unique=False)

    op.create_table('opportunity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('phase_entered_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('amount', kernel.db.ExactDecimal(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('expected_close', sa.Date(), nullable=True),
    sa.Column('owner', sa.String(length=100), nullable=True),
    sa.Column('lost_reason', sa.String(length=300), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['group_id'], ['opportunity_group.id'], ),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], ),
    sa.ForeignKeyConstraint(['phase_id'], ['opportunity_phase.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_owner'), ['owner'], unique=False)
        batch_op.create_index('ix_opportunity_phase_owner', ['phase_id', 'owner'], unique=False)

    # The phases a new installation starts with; managers change them later.
    phase = sa.table('opportunity_phase', sa.column('key', sa.String), sa.column('name', sa.String),
                     sa.column('position', sa.Integer), sa.column('probability', sa.Integer),
                     sa.column('max_days', sa.Integer), sa.column('outcome', sa.String), sa.column('active', sa.Boolean))
    op.bulk_insert(phase, [
        {'key': key, 'name': name, 'position': position, 'probability': probability, 'max_days': max_days,
         'outcome': outcome, 'active': True}
        for position, (key, name, probability, max_days, outcome) in enumerate(PHASES, start=1)])


def downgrade() -> None:
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunity_phase_owner')
        batch_op.drop_index(batch_op.f('ix_opportunity_owner'))
        batch_op.drop_index(batch_op.f('ix_opportunity_group_id'))
        batch_op.drop_index(batch_op.f('ix_opportunity_customer_id'))

    op.drop_table('opportunity')
    with op.batch_alter_table('opportunity_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_group_customer_id'))

    op.drop_table('opportunity_group')
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_status_created')
        batch_op.drop_index(batch_op.f('ix_lead_owner'))
        batch_op.drop_index(batch_op.f('ix_lead_email'))

    op.drop_table('lead')
    op.drop_table('opportunity_phase')
