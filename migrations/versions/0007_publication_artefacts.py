"""publication artefacts, archived statements, names in statements (issues 15 and 17)

publication_artefacts holds each publication's files (PDF, DOCX, Markdown) and the statement part
of its page, made once at publication. Publications made before this migration get theirs from
`flask statements render-artefacts` (see docs/publication-format.md); the migration itself renders
nothing (it would need the templates, the fonts and the PDF signing key).

Revision ID: a15publication
Revises: a17fastdesign
Create Date: 2026-12-01 22:34:06.785533

"""
from alembic import op
import sqlalchemy as sa

import app.models.base  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'a15publication'
down_revision = 'a17fastdesign'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('publication_artefacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_publication_artefacts_publication_id_publications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_artefacts')),
    sa.UniqueConstraint('publication_id', 'kind', name=op.f('uq_publication_artefacts_publication_id_kind'))
    )
    with op.batch_alter_table('publication_artefacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_artefacts_publication_id'), ['publication_id'], unique=False)

    op.create_table('recorded_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signer_title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dispute_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_recorded_signatures_answered_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_recorded_signatures_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_recorded_signatures_publication_id_publications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recorded_signatures')),
    sa.UniqueConstraint('publication_id', 'organisation_id', name=op.f('uq_recorded_signatures_publication_id_organisation_id'))
    )
    with op.batch_alter_table('recorded_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recorded_signatures_answered_by_id'), ['answered_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recorded_signatures_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recorded_signatures_publication_id'), ['publication_id'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_in_statements', sa.String(length=300), server_default='', nullable=False))

    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_column('archived')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('name_in_statements')

    with op.batch_alter_table('recorded_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recorded_signatures_publication_id'))
        batch_op.drop_index(batch_op.f('ix_recorded_signatures_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_recorded_signatures_answered_by_id'))

    op.drop_table('recorded_signatures')
    with op.batch_alter_table('publication_artefacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_artefacts_publication_id'))

    op.drop_table('publication_artefacts')
