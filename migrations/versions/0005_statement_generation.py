"""statements.generation; covering index for open amendments

statements.generation is the change counter that cached page fragments are keyed by
(app/web/fragments.py); the index covers the open-amendment counts and siblings.

Revision ID: 556df6ac1945
Revises: 314181168e95
Create Date: 2026-11-25 15:51:03.345918

"""
from alembic import op
import sqlalchemy as sa

import app.models.base  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = '556df6ac1945'
down_revision = '314181168e95'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.create_index('ix_amendments_statement_id_status', ['statement_id', 'status', 'paragraph_id', 'kind'], unique=False)

    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('generation', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_column('generation')

    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.drop_index('ix_amendments_statement_id_status')

