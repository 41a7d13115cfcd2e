"""delivery receipts (outbox.msgid, outbox.receipt) and residents' photos and voice kept (media_files)

Revision ID: b4d1f0a7c3e2
Revises: de8c1be0598a
Create Date: 2026-12-02 04:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'b4d1f0a7c3e2'
down_revision = 'de8c1be0598a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('msgid', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('receipt', sa.String(length=16), nullable=True))
        batch.create_index('ix_outbox_msgid', ['msgid'])
    op.create_table(
        'media_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('media_id', sa.String(length=256), nullable=False),
        sa.Column('openid', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('path', sa.String(length=256), nullable=True),
        sa.Column('content_type', sa.String(length=64), nullable=True),
        sa.Column('error', sa.String(length=200), nullable=True),
        sa.Column('stored_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('media_id'),
    )
    op.create_index('ix_media_files_due', 'media_files', ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_media_files_due', table_name='media_files')
    op.drop_table('media_files')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_index('ix_outbox_msgid')
        batch.drop_column('receipt')
        batch.drop_column('msgid')
