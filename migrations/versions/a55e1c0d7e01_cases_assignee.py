"""cases.assignee_id: the person-level assignee of a case (我来办 / assigned to a colleague)

Revision ID: a55e1c0d7e01
Revises: 5e2a9c1d7b3f
Create Date: 2026-12-02 06:05:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'a55e1c0d7e01'
down_revision = '5e2a9c1d7b3f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch.create_index('ix_cases_assignee_id', ['assignee_id'], unique=False)
        batch.create_foreign_key('fk_cases_assignee_id_users', 'users', ['assignee_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_constraint('fk_cases_assignee_id_users', type_='foreignkey')
        batch.drop_index('ix_cases_assignee_id')
        batch.drop_column('assignee_id')
