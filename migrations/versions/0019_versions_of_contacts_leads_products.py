"""contacts, leads and products carry a version like customers, opportunities and offers: a change
through the API names the version it read (body `version` or If-Match), so concurrent edits no longer
overwrite each other. Drafts no longer open an opportunity before their first submission: the
opportunities that drafts never submitted opened by themselves leave the pipeline

Revision ID: 0019
Revises: 0018
"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

TABLES = ('contact', 'lead', 'product')

offer = sa.table('offer', sa.column('id', sa.Integer), sa.column('number', sa.String),
                 sa.column('title', sa.String), sa.column('opportunity_id', sa.Integer),
                 sa.column('created_at', sa.DateTime))
opportunity = sa.table('opportunity', sa.column('id', sa.Integer), sa.column('title', sa.String),
                       sa.column('phase_id', sa.Integer), sa.column('lead_id', sa.Integer),
                       sa.column('closed_at', sa.DateTime), sa.column('created_at', sa.DateTime))
phase = sa.table('opportunity_phase', sa.column('id', sa.Integer), sa.column('key', sa.String))
order = sa.table('sales_order', sa.column('opportunity_id', sa.Integer))
activity = sa.table('activity', sa.column('opportunity_id', sa.Integer))
document = sa.table('document', sa.column('owner_type', sa.String), sa.column('owner_id', sa.Integer))


def upgrade() -> None:
    for table in TABLES:  # a plain ADD COLUMN: a batch would rebuild contact on SQLite without its expression index
        op.add_column(table, sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    remove_opportunities_of_unsubmitted_drafts()


def remove_opportunities_of_unsubmitted_drafts() -> None:
    """An open opportunity in phase "offer" that an offer never submitted (no number) opened for
    itself when it was made (same title, made with it, no lead, nothing else refers to it) is
    removed and the draft no longer names it: its first submission opens one, as for new drafts."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(offer.c.id, offer.c.title, offer.c.created_at, opportunity.c.id.label('opportunity_id'),
                  opportunity.c.title.label('opportunity_title'), opportunity.c.created_at.label('opened_at'))
        .select_from(offer.join(opportunity, opportunity.c.id == offer.c.opportunity_id)
                     .join(phase, phase.c.id == opportunity.c.phase_id))
        .where(offer.c.number.is_(None), opportunity.c.closed_at.is_(None), opportunity.c.lead_id.is_(None),
               phase.c.key == 'offer')).all()
    for row in rows:
        if row.opportunity_title != (row.title or '')[:200] or row.opened_at is None or row.created_at is None \
                or abs(row.opened_at - row.created_at) > timedelta(minutes=1):
            continue
        others = [
            sa.select(sa.func.count()).select_from(offer).where(offer.c.opportunity_id == row.opportunity_id,
                                                                 offer.c.id != row.id),
            sa.select(sa.func.count()).select_from(order).where(order.c.opportunity_id == row.opportunity_id),
            sa.select(sa.func.count()).select_from(activity).where(activity.c.opportunity_id == row.opportunity_id),
            sa.select(sa.func.count()).select_from(document).where(document.c.owner_type == 'opportunity',
                                                                   document.c.owner_id == row.opportunity_id)]
        if any(connection.scalar(query) for query in others):
            continue
        connection.execute(offer.update().where(offer.c.id == row.id).values(opportunity_id=None))
        connection.execute(opportunity.delete().where(opportunity.c.id == row.opportunity_id))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('version')
    if op.get_bind().dialect.name == 'sqlite':  # the rebuilt table lost it
        op.create_index('ix_contact_email_lower', 'contact', [sa.text('lower(email)')])
