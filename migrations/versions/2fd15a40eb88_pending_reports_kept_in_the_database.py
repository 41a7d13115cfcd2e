"""pending reports kept in the database (a report waiting for its address survives losing Redis)

Revision ID: 2fd15a40eb88
Revises: d7a1e2f3b4c5
Create Date: 2026-12-02 01:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '2fd15a40eb88'
down_revision = 'd7a1e2f3b4c5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pending_reports',
        sa.Column('openid', sa.String(length=64), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('openid'),
    )


def downgrade() -> None:
    op.drop_table('pending_reports')
