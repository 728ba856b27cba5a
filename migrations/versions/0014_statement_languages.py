"""statement languages, translations, texts frozen and published per language (issue 14, items 2-4)

statements.source_language; statement_languages (target languages); translation_texts (append-only
translations of the title and paragraphs, each naming the source revision it translates);
frozen_translations (authentic canonical texts frozen for signing); signatures.translation_sha256;
publication_languages; organisation_names (names in statements per language);
publication_artefacts.kind widened for "<language>.<kind>".

Revision ID: a14langs
Revises: a16suggest
Create Date: 2026-12-06 18:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.models.base  # noqa: F401  (custom column types used below)


revision = 'a14langs'
down_revision = 'a16suggest'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_language', sa.String(length=35), server_default='en', nullable=False))

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translation_sha256', sa.Text(), server_default='{}', nullable=False))

    with op.batch_alter_table('publication_artefacts', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=10), type_=sa.String(length=50),
                              existing_nullable=False)

    op.create_table('statement_languages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('authentic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_statement_languages_added_by_id_users')),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_languages_statement_id_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_languages')),
    sa.UniqueConstraint('statement_id', 'language', name=op.f('uq_statement_languages_statement_id_language'))
    )
    with op.batch_alter_table('statement_languages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_languages_added_by_id'), ['added_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_languages_statement_id'), ['statement_id'], unique=False)

    op.create_table('translation_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('paragraph_id', sa.Integer(), nullable=True),
    sa.Column('source_revision_id', sa.Integer(), nullable=True),
    sa.Column('source_title', sa.Text(), server_default='', nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_translation_texts_author_id_users')),
    sa.ForeignKeyConstraint(['paragraph_id'], ['paragraphs.id'], name=op.f('fk_translation_texts_paragraph_id_paragraphs')),
    sa.ForeignKeyConstraint(['source_revision_id'], ['revisions.id'], name=op.f('fk_translation_texts_source_revision_id_revisions')),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_translation_texts_statement_id_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_texts'))
    )
    with op.batch_alter_table('translation_texts', schema=None) as batch_op:
        batch_op.create_index('ix_translation_texts_statement_language', ['statement_id', 'language'], unique=False)
        batch_op.create_index(batch_op.f('ix_translation_texts_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_translation_texts_paragraph_id'), ['paragraph_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_translation_texts_source_revision_id'), ['source_revision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_translation_texts_statement_id'), ['statement_id'], unique=False)

    op.create_table('frozen_translations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('canonical_text', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('authentic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_frozen_translations_statement_id_statements')),
    sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_frozen_translations_version_id_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frozen_translations'))
    )
    with op.batch_alter_table('frozen_translations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_frozen_translations_statement_id'), ['statement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_frozen_translations_version_id'), ['version_id'], unique=False)

    op.create_table('publication_languages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('authentic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('canonical_text', sa.Text(), nullable=False),
    sa.Column('canonical_sha256', sa.String(length=64), nullable=False),
    sa.Column('plain_text', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest', sa.Text(), server_default='', nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_publication_languages_added_by_id_users')),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_publication_languages_publication_id_publications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_languages')),
    sa.UniqueConstraint('publication_id', 'language', name=op.f('uq_publication_languages_publication_id_language'))
    )
    with op.batch_alter_table('publication_languages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_languages_added_by_id'), ['added_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_languages_publication_id'), ['publication_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_languages_sha256'), ['sha256'], unique=False)

    op.create_table('organisation_names',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('name_in_statements', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_names_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_names')),
    sa.UniqueConstraint('organisation_id', 'language', name=op.f('uq_organisation_names_organisation_id_language'))
    )
    with op.batch_alter_table('organisation_names', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_names_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('organisation_names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_names_organisation_id'))
    op.drop_table('organisation_names')

    with op.batch_alter_table('publication_languages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_languages_sha256'))
        batch_op.drop_index(batch_op.f('ix_publication_languages_publication_id'))
        batch_op.drop_index(batch_op.f('ix_publication_languages_added_by_id'))
    op.drop_table('publication_languages')

    with op.batch_alter_table('frozen_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_frozen_translations_version_id'))
        batch_op.drop_index(batch_op.f('ix_frozen_translations_statement_id'))
    op.drop_table('frozen_translations')

    with op.batch_alter_table('translation_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_translation_texts_statement_id'))
        batch_op.drop_index(batch_op.f('ix_translation_texts_source_revision_id'))
        batch_op.drop_index(batch_op.f('ix_translation_texts_paragraph_id'))
        batch_op.drop_index(batch_op.f('ix_translation_texts_author_id'))
        batch_op.drop_index('ix_translation_texts_statement_language')
    op.drop_table('translation_texts')

    with op.batch_alter_table('statement_languages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_languages_statement_id'))
        batch_op.drop_index(batch_op.f('ix_statement_languages_added_by_id'))
    op.drop_table('statement_languages')

    with op.batch_alter_table('publication_artefacts', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=50), type_=sa.String(length=10),
                              existing_nullable=False)

    # ALTER TABLE … DROP COLUMN in place (SQLite 3.35+): recreating these tables would drop tables that
    # other rows point at, which SQLite's foreign keys refuse once there is data.
    with op.batch_alter_table('signatures', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('translation_sha256')

    with op.batch_alter_table('statements', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('source_language')
