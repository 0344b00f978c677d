"""user administration: a user's phone, a password that must be changed at the next login (one-time
passwords set by an administrator), a version for changes by administrators; what a change of the
security audit changed (security_event.details)

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (SQLite has it): a batch would copy app_user and reflect every table it refers to
    op.add_column('app_user', sa.Column('phone', sa.String(length=50), nullable=True))
    op.add_column('app_user', sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column('app_user', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    op.add_column('security_event', sa.Column('details', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('security_event') as batch:
        batch.drop_column('details')
    with op.batch_alter_table('app_user') as batch:
        batch.drop_column('version')
        batch.drop_column('must_change_password')
        batch.drop_column('phone')
