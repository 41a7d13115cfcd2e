"""`flask --app bot user create|edit|disable|enable|reset-password` (thin wrappers over bot.domain.users)."""
from __future__ import annotations

from collections.abc import Callable

import click
from sqlalchemy.orm import Session
from flask import current_app
from flask.cli import with_appcontext

from bot.cli.common import open_session, refused
from bot.clock import utcnow
from bot.constants import Role
from bot.domain import users
from bot.errors import MulinError
from bot.storage.models import User


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
    with open_session() as session:
        try:
            user = users.create_user(session, username=username, password=password, role=role, now=utcnow(),
                                     department=department, community=community)
        except MulinError as exc:
            session.rollback()
            raise refused(exc) from None
        session.commit()
        click.echo(f"created {user.role} {user.username}")


def _change(username: str, change: str, apply: Callable[[Session, User], None]) -> None:
    """Apply a change to a stored user, commit, log it (never the password) and say so."""
    with open_session() as session:
        try:
            user = users.get(session, username)
            apply(session, user)
            session.flush()
        except MulinError as exc:
            session.rollback()
            raise refused(exc) from None
        session.commit()
        current_app.logger.info("cli: user %r %s", user.username, change)
        click.echo(f"{change} {user.username}")


@user_group.command("edit")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--department", default=None, help="staff only")
@click.option("--community", default=None, help="staff only")
@with_appcontext
def edit_command(username: str, role: str, department: str | None, community: str | None) -> None:
    """Change a user's role, department and community (their sessions end)."""
    _change(username, "edited", lambda session, user: users.edit_user(session, user, role=role,
                                                                      department=department, community=community))


@user_group.command("disable")
@click.option("--username", required=True)
@with_appcontext
def disable_command(username: str) -> None:
    """Stop a user logging in; their sessions end at once."""
    _change(username, "disabled", lambda _, user: users.set_disabled(user, True))


@user_group.command("enable")
@click.option("--username", required=True)
@with_appcontext
def enable_command(username: str) -> None:
    """Let a disabled user log in again."""
    _change(username, "enabled", lambda _, user: users.set_disabled(user, False))


@user_group.command("reset-password")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def reset_password_command(username: str, password: str) -> None:
    """Give a user a new password (prompted unless --password is given); their sessions end."""
    _change(username, "password reset for", lambda _, user: users.reset_password(user, password))
