"""`flask --app bot user create`: add a console user (thin wrapper over bot.domain.users)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from bot.constants import Role
from bot.domain import users
from bot.clock import utcnow
from bot.web.request_session import get_db
from bot.errors import MulinError


@click.group("user")
def user_group() -> None:
    """Manage console users."""


@user_group.command("create")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--department", default=None, help="staff only: the department whose cases they see")
@click.option("--community", default=None, help="staff only: the community whose cases they see")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_command(username: str, role: str, department: str | None, community: str | None,
                   password: str) -> None:
    """Create a user; prompts for the password unless --password is given."""
    session = get_db()
    try:
        user = users.create_user(session, username=username, password=password, role=role, now=utcnow(),
                                 department=department, community=community)
    except MulinError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    session.commit()
    click.echo(f"created {user.role} {user.username}")
