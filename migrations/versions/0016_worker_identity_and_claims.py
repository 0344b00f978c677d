"""workers with an identity and a heartbeat; claimed jobs and mail name the worker incarnation that
claimed them, so that a dead worker's claims are free without waiting for their leases

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

import kernel.db


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('worker',
                    sa.Column('name', sa.String(length=80), nullable=False),
                    sa.Column('incarnation', sa.String(length=120), nullable=False),
                    sa.Column('host', sa.String(length=255), nullable=False),
                    sa.Column('pid', sa.Integer(), nullable=False),
                    sa.Column('started_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('alive_until', kernel.db.UTCDateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('name'),
                    sa.UniqueConstraint('incarnation'))
    with op.batch_alter_table('service_job') as batch:
        batch.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('claimed_by')
    with op.batch_alter_table('service_job') as batch:
        batch.drop_column('claimed_by')
    op.drop_table('worker')
