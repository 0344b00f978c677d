"""users a task names as candidates (the process's assignee); what a received mail proves

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('human_task') as batch:
        batch.add_column(sa.Column('candidate_users', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('inbound_mail') as batch:
        batch.add_column(sa.Column('evidence', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('authentication', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbound_mail') as batch:
        batch.drop_column('authentication')
        batch.drop_column('evidence')
    with op.batch_alter_table('human_task') as batch:
        batch.drop_column('candidate_users')
