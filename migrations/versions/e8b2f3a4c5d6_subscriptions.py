"""subscriptions: who accepted which subscription notice template (订阅通知)

Revision ID: e8b2f3a4c5d6
Revises: 7a1f3c2e9b40
Create Date: 2026-12-02 02:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'e8b2f3a4c5d6'
down_revision = '7a1f3c2e9b40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('openid', sa.String(length=64), nullable=False),
        sa.Column('template_id', sa.String(length=128), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('openid', 'template_id'),
    )


def downgrade() -> None:
    op.drop_table('subscriptions')
