"""Flask CLI commands: one module per command group, thin wrappers over plain functions, registered here."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from bot.storage import migrate


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is up to date")


def init_app(app: Flask) -> None:
    """Register every command."""
    from bot.cli import cases, directory
    from bot.cli.classify import classify_command
    from bot.cli.consult import consult_group
    from bot.cli.menu import menu_group
    from bot.cli.mulinfang import mulinfang_group
    from bot.cli.notices import notice_group
    from bot.cli.outbox import outbox_group
    from bot.cli.project import project_group
    from bot.cli.qr import qr_command
    from bot.cli.users import user_group
    for command in (init_db_command, classify_command, notice_group, outbox_group, user_group, mulinfang_group,
                    qr_command, menu_group, consult_group, project_group, *directory.COMMANDS, *cases.COMMANDS):
        app.cli.add_command(command)
