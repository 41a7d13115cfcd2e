"""`flask --app bot import-directory|import-staff|import-residents|demo-data`: thin wrappers over
bot.domain.directory and bot.devtools.demo."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from bot.cli.common import open_session, refused
from bot.clock import utcnow
from bot.devtools import demo
from bot.domain import directory
from bot.errors import ImportFileError

CSV = click.Path(exists=True, dir_okay=False)


def _import(func: Callable[..., dict[str, int]], path: str, *extra: Any) -> None:
    """Run one import in a transaction: all of the file or, on a bad line, nothing."""
    with open_session() as session:
        try:
            counts = func(session, Path(path), *extra)
        except ImportFileError as exc:
            session.rollback()
            raise refused(exc, f"{path}: ") from None
        session.commit()
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


@click.command("import-directory")
@with_appcontext
@click.argument("path", type=CSV)
def import_directory_command(path: str) -> None:
    """Import communities, compounds and buildings (CSV: community,compound,building,property_manager)."""
    _import(directory.import_directory, path)


@click.command("import-staff")
@with_appcontext
@click.argument("path", type=CSV)
def import_staff_command(path: str) -> None:
    """Import staff (CSV: name,openid,department,community)."""
    _import(directory.import_staff, path)


@click.command("import-residents")
@with_appcontext
@click.argument("path", type=CSV)
def import_residents_command(path: str) -> None:
    """Import residents' addresses (CSV: openid,name,phone,compound,building,unit,room)."""
    _import(directory.import_residents, path, utcnow())


@click.command("demo-data")
@with_appcontext
def demo_data_command() -> None:
    """Load the demo street (idempotent: updates in place)."""
    with open_session() as session:
        counts = demo.load_demo(session, utcnow())
        session.commit()
    click.echo("demo data ready: " + "; ".join(f"{k} {v}" for k, v in counts.items()))


COMMANDS = (import_directory_command, import_staff_command, import_residents_command, demo_data_command)
