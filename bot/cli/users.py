"""`flask --app bot user create|edit|disable|enable|reset-password` (thin wrappers over bot.domain.users)."""
from __future__ import annotations

from collections.abc import Callable

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.clock import utcnow
from bot.domain import users
from bot.errors import MulinError
from bot.storage.models import User
from bot.web.request_session import get_db


@click.group("user")
def user_group() -> None:
    """Manage console users."""


@user_group.command("create")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(users.ROLES), required=True)
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


def _change(username: str, change: str, apply: Callable[[User], None]) -> None:
    """Apply a change to a stored user, commit, log it (never the password) and say so."""
    session = get_db()
    try:
        user = users.get(session, username)
        apply(user)
        session.flush()
    except MulinError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    session.commit()
    current_app.logger.info("cli: user %r %s", user.username, change)
    click.echo(f"{change} {user.username}")


@user_group.command("edit")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(users.ROLES), required=True)
@click.option("--department", default=None, help="staff only")
@click.option("--community", default=None, help="staff only")
@with_appcontext
def edit_command(username: str, role: str, department: str | None, community: str | None) -> None:
    """Change a user's role, department and community (their sessions end)."""
    _change(username, "edited", lambda user: users.edit_user(get_db(), user, role=role, department=department,
                                                             community=community))


@user_group.command("disable")
@click.option("--username", required=True)
@with_appcontext
def disable_command(username: str) -> None:
    """Stop a user logging in; their sessions end at once."""
    _change(username, "disabled", lambda user: users.set_disabled(user, True))


@user_group.command("enable")
@click.option("--username", required=True)
@with_appcontext
def enable_command(username: str) -> None:
    """Let a disabled user log in again."""
    _change(username, "enabled", lambda user: users.set_disabled(user, False))


@user_group.command("reset-password")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def reset_password_command(username: str, password: str) -> None:
    """Give a user a new password (prompted unless --password is given); their sessions end."""
    _change(username, "password reset for", lambda user: users.reset_password(user, password))
