"""positions know the text they were given on and how; suggestions to an amendment (issue 16)

positions.text_version: the amendment's text_version when the position was given (a clean rebase
moves the text on; the position still counts and is shown as given on an earlier text).
positions.given_as: "proposer" / "cosponsor" for the support recorded by proposing or
co-sponsoring; NULL for a position taken by itself. amendment_revisions.text_version: the
amendment's text_version each history row made current. suggestions: changes suggested to an
open amendment's text.

Existing rows: every position is taken to have been given on its amendment's current text (the
migration cannot know better; nothing was recorded), every history row gets the text version it
made current, counted back from the amendment's current one (the newest row has it). Amendments
proposed before this migration get no automatic support: no position is invented.

Revision ID: a16suggest
Revises: a17unread
Create Date: 2026-12-06 17:50:47.308823

"""
from alembic import op
import sqlalchemy as sa

import app.models.base  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'a16suggest'
down_revision = 'a17unread'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('amendment_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text_version', sa.Integer(), nullable=False),
    sa.Column('base_text', sa.Text(), nullable=False),
    sa.Column('proposed_text', sa.Text(), nullable=False),
    sa.Column('diff', sa.Text(), server_default='[]', nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['amendment_id'], ['amendments.id'], name=op.f('fk_suggestions_amendment_id_amendments')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_suggestions_author_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_suggestions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_suggestions_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestions'))
    )
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.create_index('ix_suggestions_amendment_id_status', ['amendment_id', 'status', 'organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestions_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestions_decided_by_id'), ['decided_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestions_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('amendment_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('given_as', sa.String(length=10), nullable=True))

    # Plain correlated UPDATEs: the same SQL on SQLite and PostgreSQL.
    op.execute(
        "UPDATE positions SET text_version = "
        "(SELECT amendments.text_version FROM amendments WHERE amendments.id = positions.amendment_id)"
    )
    op.execute(
        "UPDATE amendment_revisions SET text_version = "
        "(SELECT amendments.text_version FROM amendments WHERE amendments.id = amendment_revisions.amendment_id)"
        " - (SELECT count(*) FROM amendment_revisions AS later"
        " WHERE later.amendment_id = amendment_revisions.amendment_id AND later.id > amendment_revisions.id)"
    )
    op.execute("UPDATE amendment_revisions SET text_version = 1 WHERE text_version < 1")



def downgrade():
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_column('given_as')
        batch_op.drop_column('text_version')

    with op.batch_alter_table('amendment_revisions', schema=None) as batch_op:
        batch_op.drop_column('text_version')

    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestions_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_suggestions_decided_by_id'))
        batch_op.drop_index(batch_op.f('ix_suggestions_author_id'))
        batch_op.drop_index('ix_suggestions_amendment_id_status')

    op.drop_table('suggestions')
