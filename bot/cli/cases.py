"""CLI for the directory, demo data and cases: thin wrappers over bot.domain.directory, bot.devtools.demo, bot.domain.cases."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import cases, directory

from bot.devtools import demo
from bot.clock import utcnow
from bot.errors import ImportFileError, InvalidTransition, NotFound
from bot.storage.models import Case
from bot.services import services

ACTIONS = ("accept", "resolve", "reopen", "close", "cancel")
FIELDS = ("number", "openid", "intent", "also", "priority", "status", "department", "handoff", "group_id",
          "reopen_count", "satisfaction", "solved", "followup_state")
TIMES = ("created_at", "due_at", "first_response_at", "resolved_at", "closed_at")


def _session() -> Session:
    return services(current_app).sessions()


def case_to_dict(case: Case) -> dict[str, Any]:
    """A case as plain JSON values (times as ISO strings, naive UTC)."""
    out: dict[str, Any] = {name: getattr(case, name) for name in FIELDS}
    out.update({name: getattr(case, name).isoformat() if getattr(case, name) else None for name in TIMES})
    out.update(community=case.community.name if case.community else None,
               compound=case.compound.name if case.compound else None,
               building=case.building.name if case.building else None, unit=case.unit, room=case.room)
    return out


def _import(func: Callable[..., dict[str, int]], path: str, *extra: Any) -> None:
    with _session() as session:
        try:
            counts = func(session, Path(path), *extra)
        except ImportFileError as exc:
            session.rollback()
            raise click.ClickException(f"{path}: {exc}") from None
        session.commit()
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


@click.command("import-directory")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_directory_command(path: str) -> None:
    """Import communities, compounds and buildings (CSV: community,compound,building,property_manager)."""
    _import(directory.import_directory, path)


@click.command("import-staff")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_staff_command(path: str) -> None:
    """Import staff (CSV: name,openid,department,community)."""
    _import(directory.import_staff, path)


@click.command("import-residents")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_residents_command(path: str) -> None:
    """Import residents' addresses (CSV: openid,name,phone,compound,building,unit,room)."""
    _import(directory.import_residents, path, utcnow())


@click.command("demo-data")
@with_appcontext
def demo_data_command() -> None:
    """Load the demo street (idempotent: updates in place)."""
    with _session() as session:
        counts = demo.load_demo(session, utcnow())
        session.commit()
    click.echo("demo data ready: " + "; ".join(f"{k} {v}" for k, v in counts.items()))


@click.command("case")
@with_appcontext
@click.argument("action", type=click.Choice(ACTIONS))
@click.argument("number")
@click.option("--note", default=None, help="What was done (shown to the resident).")
@click.option("--by", "actor", default="staff", help="Who acts (recorded in the audit trail).")
def case_command(action: str, number: str, note: str | None, actor: str) -> None:
    """Accept, resolve, reopen, close or cancel a case by its number."""
    with _session() as session:
        try:
            case = cases.transition(session, cases.get_by_number(session, number), action,
                                    actor=actor, now=utcnow(), note=note)
        except (NotFound, InvalidTransition) as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"{case.number}: {case.status}")


@click.command("cases")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def cases_command(as_json: bool) -> None:
    """List all cases."""
    with _session() as session:
        rows = [case_to_dict(c) for c in session.scalars(select(Case).order_by(Case.id)).all()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        click.echo(f"{row['number']}  {row['intent']:<12} {row['status']:<11} {row['department']:<11} "
                   f"{row['compound'] or '-'} {row['building'] or ''}")


COMMANDS = (import_directory_command, import_staff_command, import_residents_command, demo_data_command,
            case_command, cases_command)
