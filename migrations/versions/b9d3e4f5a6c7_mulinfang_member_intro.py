"""mulinfang members: the applicant's self-introduction

Revision ID: b9d3e4f5a6c7
Revises: a55e1c0d7e01
Create Date: 2026-12-08 03:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'b9d3e4f5a6c7'
down_revision = 'a55e1c0d7e01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mulinfang_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intro', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mulinfang_members', schema=None) as batch_op:
        batch_op.drop_column('intro')
