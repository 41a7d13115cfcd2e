"""Flask CLI commands: thin wrappers over plain functions."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from bot import migrate


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is up to date")


def init_app(app: Flask) -> None:
    """Register every command."""
    from handlers.classify_cli import classify_command

    app.cli.add_command(init_db_command)
    app.cli.add_command(classify_command)
    from bot.notice_cli import notice_group

    app.cli.add_command(notice_group)
    from bot.user_cli import user_group

    app.cli.add_command(user_group)
    from bot.case_cli import COMMANDS as case_commands

    for command in case_commands:
        app.cli.add_command(command)
