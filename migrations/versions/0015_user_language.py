"""users.language: the interface language chosen on the account page (None: the browser's)

Revision ID: a14uilang
Revises: a14langs
Create Date: 2026-12-06 21:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'a14uilang'
down_revision = 'a14langs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('language')
