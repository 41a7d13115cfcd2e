"""console staff bind their WeChat: users.bind_code (one-time code, its expiry) and staff.user_id

Revision ID: c0e5b1d2a7f9
Revises: f3c9a1d2b7e6
Create Date: 2026-12-02 04:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'c0e5b1d2a7f9'
down_revision = 'f3c9a1d2b7e6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bind_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('bind_code_expires_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_users_bind_code', ['bind_code'], unique=True)
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_staff_user_id', ['user_id'], unique=False)
        batch_op.create_foreign_key('fk_staff_user_id_users', 'users', ['user_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint('fk_staff_user_id_users', type_='foreignkey')
        batch_op.drop_index('ix_staff_user_id')
        batch_op.drop_column('user_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_bind_code')
        batch_op.drop_column('bind_code_expires_at')
        batch_op.drop_column('bind_code')
