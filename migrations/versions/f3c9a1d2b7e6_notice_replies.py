"""notice_replies: residents' acknowledgements of and questions about a cleanup notice

Revision ID: f3c9a1d2b7e6
Revises: b4d1f0a7c3e2
Create Date: 2026-12-02 04:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'f3c9a1d2b7e6'
down_revision = 'b4d1f0a7c3e2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notice_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('openid', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_notice_replies_notice_id'), 'notice_replies', ['notice_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notice_replies_notice_id'), table_name='notice_replies')
    op.drop_table('notice_replies')
