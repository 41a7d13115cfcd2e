"""users: a session version (logout ends sessions server-side) and a disabled flag; failed-login counts move to Redis;
cases indexed by created_at and due_at for the console's paged list

Revision ID: e7a1c3d90b42
Revises: c264d02d8016
Create Date: 2026-12-02 01:55:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'e7a1c3d90b42'
down_revision = 'c264d02d8016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('disabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_cases_due_at', ['due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_due_at')
        batch_op.drop_index('ix_cases_created_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.drop_column('disabled')
        batch_op.drop_column('session_version')
