"""failed logins counted per client address and account (login_throttle), the security audit
(security_event), and the token version of each user (app_user.token_version)

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

import kernel.db


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Double(), nullable=False),
    sa.Column('last_failure_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('security_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('client_address', sa.String(length=45), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_security_event_at', 'security_event', ['at'], unique=False)
    op.create_index('ix_security_event_username_at', 'security_event', ['username', 'at'], unique=False)
    with op.batch_alter_table('app_user') as batch:
        batch.add_column(sa.Column('token_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('app_user') as batch:
        batch.drop_column('token_version')
    op.drop_index('ix_security_event_username_at', table_name='security_event')
    op.drop_index('ix_security_event_at', table_name='security_event')
    op.drop_table('security_event')
    op.drop_table('login_throttle')
