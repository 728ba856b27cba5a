"""users.timezone; statement_invitations.expires_at

users.timezone is the zone a person chose for times (none: their browser's);
statement_invitations.expires_at is when a contact's e-mailed link stops working.

Revision ID: a13newcomer
Revises: a15publication
Create Date: 2026-12-09 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.base  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'a13newcomer'
down_revision = 'a15publication'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))

    with op.batch_alter_table('statement_invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', app.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('statement_invitations', schema=None) as batch_op:
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')
