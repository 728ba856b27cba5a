"""notifications.texts, outbox_messages.texts: subjects and bodies as messages, shown in the reader's language

Revision ID: a14ntexts
Revises: a14uilang
Create Date: 2026-12-06 21:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'a14ntexts'
down_revision = 'a14uilang'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('notifications', 'outbox_messages'):
        with op.batch_alter_table(table, schema=None, recreate='never') as batch_op:
            batch_op.add_column(sa.Column('texts', sa.Text(), nullable=True))


def downgrade():
    for table in ('outbox_messages', 'notifications'):
        with op.batch_alter_table(table, schema=None, recreate='never') as batch_op:
            batch_op.drop_column('texts')
