"""rounds of background work that ran without a Prefect flow run (Prefect unreachable), until a
report flow run puts them into Prefect's log

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

from kernel.db import UTCDateTime

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('offline_run',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(length=40), nullable=False),
                    sa.Column('worker', sa.String(length=200), nullable=False),
                    sa.Column('started_at', UTCDateTime(), nullable=False),
                    sa.Column('finished_at', UTCDateTime(), nullable=False),
                    sa.Column('summary', sa.JSON(), nullable=True),
                    sa.Column('reason', sa.String(length=200), nullable=False),
                    sa.Column('error', sa.Text(), nullable=True),
                    sa.Column('reported_at', UTCDateTime(), nullable=True),
                    sa.Column('report_flow_run_id', sa.String(length=36), nullable=True),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_offline_run_unreported', 'offline_run', ['reported_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_offline_run_unreported', table_name='offline_run')
    op.drop_table('offline_run')
