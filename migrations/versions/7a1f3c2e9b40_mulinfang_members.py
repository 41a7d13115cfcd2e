"""mulinfang members: a building's 睦邻坊 group

Revision ID: 7a1f3c2e9b40
Revises: 2fd15a40eb88
Create Date: 2026-12-02 02:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '7a1f3c2e9b40'
down_revision = '2fd15a40eb88'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mulinfang_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('building_id', sa.Integer(), nullable=False),
        sa.Column('openid', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('contact', sa.Boolean(), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('building_id', 'openid'),
    )
    with op.batch_alter_table('mulinfang_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mulinfang_members_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mulinfang_members_openid'), ['openid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mulinfang_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mulinfang_members_openid'))
        batch_op.drop_index(batch_op.f('ix_mulinfang_members_building_id'))
    op.drop_table('mulinfang_members')
