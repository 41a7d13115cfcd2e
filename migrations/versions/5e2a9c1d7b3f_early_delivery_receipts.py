"""early delivery receipts: a receipt that arrives before its send's msgid is committed is kept (early_receipts)

Revision ID: 5e2a9c1d7b3f
Revises: c0e5b1d2a7f9
Create Date: 2026-12-02 05:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '5e2a9c1d7b3f'
down_revision = 'c0e5b1d2a7f9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'early_receipts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('msgid', sa.String(length=32), nullable=False),
        sa.Column('openid', sa.String(length=64), nullable=False),
        sa.Column('receipt', sa.String(length=16), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('msgid'),
    )


def downgrade() -> None:
    op.drop_table('early_receipts')
