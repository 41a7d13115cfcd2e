"""index inbound messages by received_at (the retention job deletes old messages by it)

Revision ID: d7a1e2f3b4c5
Revises: e7a1c3d90b42
Create Date: 2026-12-02 01:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'd7a1e2f3b4c5'
down_revision = 'e7a1c3d90b42'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_messages_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_messages_received_at'))
