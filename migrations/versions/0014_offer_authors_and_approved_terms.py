"""everyone who wrote an offer's content (none of them approves it); who set a customer's terms;
the addresses an account logged in from (failures elsewhere do not slow it there)

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_trusted_address',
                    sa.Column('key', sa.String(length=64), nullable=False),
                    sa.Column('last_login_at', sa.Double(), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    with op.batch_alter_table('offer') as batch:
        batch.add_column(sa.Column('authors', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('terms_approved_by', sa.String(length=100), nullable=True))
    build = "json_build_array" if op.get_bind().dialect.name == "postgresql" else "json_array"
    op.execute(f"UPDATE offer SET authors = {build}(created_by, changed_by)")


def downgrade() -> None:
    op.drop_table('login_trusted_address')
    with op.batch_alter_table('customer') as batch:
        batch.drop_column('terms_approved_by')
    with op.batch_alter_table('offer') as batch:
        batch.drop_column('authors')
