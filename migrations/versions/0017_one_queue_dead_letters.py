"""one queue mechanism for service jobs and the outbox: an incident is the dead letter of any queue
(named by queue and item); dead outbox mail gets its incident, so ops find every dead letter in
one place

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incident') as batch:
        batch.add_column(sa.Column('queue', sa.String(length=40), nullable=False, server_default='service_jobs'))
        batch.add_column(sa.Column('item_id', sa.Integer(), nullable=True))
        batch.alter_column('job_id', existing_type=sa.Integer(), nullable=True)
        batch.alter_column('instance_id', existing_type=sa.Integer(), nullable=True)
    op.execute("UPDATE incident SET item_id = job_id")
    # mail already dead: its incident, dated when its last attempt was due
    op.execute("INSERT INTO incident (queue, item_id, operation, error, attempts, opened_at) "
               "SELECT 'outbox', id, substr('mail ' || template || ' to ' || to_address, 1, 200), "
               "coalesce(last_error, 'dead letter'), attempts, next_attempt_at FROM outbox WHERE state = 'dead'")
    with op.batch_alter_table('incident') as batch:
        batch.alter_column('item_id', existing_type=sa.Integer(), nullable=False)
        batch.alter_column('queue', existing_type=sa.String(length=40), server_default=None)
        batch.create_index('ix_incident_item', ['queue', 'item_id'], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM incident WHERE queue <> 'service_jobs'")
    with op.batch_alter_table('incident') as batch:
        batch.drop_index('ix_incident_item')
        batch.alter_column('instance_id', existing_type=sa.Integer(), nullable=False)
        batch.alter_column('job_id', existing_type=sa.Integer(), nullable=False)
        batch.drop_column('item_id')
        batch.drop_column('queue')
