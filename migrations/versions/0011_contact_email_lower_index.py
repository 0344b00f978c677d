"""contacts found by their e-mail address in lower case (mail intake's known-sender routing)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_contact_email_lower', 'contact', [sa.text('lower(email)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_contact_email_lower', table_name='contact')
