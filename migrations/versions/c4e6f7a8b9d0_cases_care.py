"""cases: who to look after (独居、行动不便、高龄), from the report's words

Revision ID: c4e6f7a8b9d0
Revises: b9d3e4f5a6c7
Create Date: 2026-12-08 03:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e6f7a8b9d0'
down_revision = 'b9d3e4f5a6c7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('care', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('care')
