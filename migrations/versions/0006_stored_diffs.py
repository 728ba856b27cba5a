"""Stored diffs; statements.generation goes

Amendments, their history entries and paragraph revisions keep the word diff of their text,
computed when the text is written (pages never diff at view time); existing rows are filled
in here. statements.generation, the change counter of the per-worker page cache, is dropped
with that cache.

Revision ID: a17fastdesign
Revises: 556df6ac1945
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a17fastdesign'
down_revision = '556df6ac1945'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('diff', sa.Text(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('current_diff', sa.Text(), nullable=True))
    with op.batch_alter_table('amendment_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('diff', sa.Text(), server_default='[]', nullable=False))
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('diff', sa.Text(), nullable=True))
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_column('generation')
    _fill_in_diffs()


def _fill_in_diffs():
    """Existing rows get the diffs new rows are written with (app.diffing.stored)."""
    from app.diffing.stored import text_change

    def of(kind, base, proposed):
        if kind == 'insert':
            return text_change('', proposed)
        if kind == 'delete':
            return text_change(base, '')
        return text_change(base, proposed)

    bind = op.get_bind()
    meta = sa.MetaData()
    amendments = sa.Table('amendments', meta, autoload_with=bind)
    history = sa.Table('amendment_revisions', meta, autoload_with=bind)
    revisions = sa.Table('revisions', meta, autoload_with=bind)
    paragraphs = sa.Table('paragraphs', meta, autoload_with=bind)
    statements = sa.Table('statements', meta, autoload_with=bind)

    current = sa.select(revisions.c.text).where(revisions.c.id == paragraphs.c.current_revision_id) \
        .scalar_subquery()
    rows = bind.execute(
        sa.select(amendments.c.id, amendments.c.kind, amendments.c.status, amendments.c.base_text,
                  amendments.c.proposed_text, paragraphs.c.current_revision_id, amendments.c.base_revision_id,
                  current.label('paragraph_text'), statements.c.title)
        .select_from(amendments.outerjoin(paragraphs, paragraphs.c.id == amendments.c.paragraph_id)
                     .join(statements, statements.c.id == amendments.c.statement_id))
    ).all()
    kinds = {}
    for row in rows:
        kinds[row.id] = row.kind
        values = {'diff': of(row.kind, row.base_text, row.proposed_text)}
        if row.status == 'conflicted':
            now = row.title if row.kind == 'retitle' else row.paragraph_text
            if now is not None and now != row.base_text:
                values['current_diff'] = of(row.kind, now, row.proposed_text)
        bind.execute(amendments.update().where(amendments.c.id == row.id).values(**values))
    for row in bind.execute(sa.select(history.c.id, history.c.amendment_id, history.c.base_text,
                                      history.c.proposed_text)).all():
        bind.execute(history.update().where(history.c.id == row.id).values(
            diff=of(kinds.get(row.amendment_id, 'modify'), row.base_text, row.proposed_text)))
    parent = revisions.alias('parent')
    for row in bind.execute(sa.select(revisions.c.id, revisions.c.text, parent.c.text.label('parent_text'))
                            .join(parent, parent.c.id == revisions.c.parent_id)).all():
        bind.execute(revisions.update().where(revisions.c.id == row.id).values(
            diff=text_change(row.parent_text, row.text)))


def downgrade():
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('generation', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_column('diff')
    with op.batch_alter_table('amendment_revisions', schema=None) as batch_op:
        batch_op.drop_column('diff')
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.drop_column('current_diff')
        batch_op.drop_column('diff')
