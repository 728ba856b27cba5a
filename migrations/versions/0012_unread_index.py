"""notifications (user_id, read_at): the header's count of unread notifications, from the index

Revision ID: a17unread
Revises: a13newcomer
Create Date: 2026-12-02 01:30:00

"""
from alembic import op


revision = 'a17unread'
down_revision = 'a13newcomer'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_id_read_at', ['user_id', 'read_at'], unique=False)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id_read_at')
