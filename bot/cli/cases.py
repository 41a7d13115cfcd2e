"""`flask --app bot case ACTION NUMBER` and `flask --app bot cases [--json]`: thin wrappers over bot.domain.cases."""
from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from bot.cli.common import open_session, refused
from bot.clock import utcnow
from bot.domain import cases
from bot.errors import InvalidTransition, NotFound
from bot.storage.models import Case

ACTIONS = tuple(cases.TRANSITIONS)
FIELDS = ("number", "openid", "intent", "also", "priority", "status", "department", "handoff", "group_id",
          "reopen_count", "satisfaction", "solved", "followup_state")
TIMES = ("created_at", "due_at", "first_response_at", "resolved_at", "closed_at")


def case_to_dict(case: Case) -> dict[str, Any]:
    """A case as plain JSON values (times as ISO strings, naive UTC)."""
    out: dict[str, Any] = {name: getattr(case, name) for name in FIELDS}
    out.update({name: getattr(case, name).isoformat() if getattr(case, name) else None for name in TIMES})
    out.update(community=case.community.name if case.community else None,
               compound=case.compound.name if case.compound else None,
               building=case.building.name if case.building else None, unit=case.unit, room=case.room)
    return out


@click.command("case")
@with_appcontext
@click.argument("action", type=click.Choice(ACTIONS))
@click.argument("number")
@click.option("--note", default=None, help="What was done (shown to the resident).")
@click.option("--by", "actor", default="staff", help="Who acts (recorded in the audit trail).")
def case_command(action: str, number: str, note: str | None, actor: str) -> None:
    """Accept, resolve, reopen, close or cancel a case by its number."""
    with open_session() as session:
        try:
            case = cases.transition(session, cases.get_by_number(session, number), action,
                                    actor=actor, now=utcnow(), note=note)
        except (NotFound, InvalidTransition) as exc:
            raise refused(exc) from None
        session.commit()
        click.echo(f"{case.number}: {case.status}")


@click.command("cases")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def cases_command(as_json: bool) -> None:
    """List all cases."""
    with open_session() as session:
        rows = [case_to_dict(c) for c in session.scalars(select(Case).order_by(Case.id)).all()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        click.echo(f"{row['number']}  {row['intent']:<12} {row['status']:<11} {row['department']:<11} "
                   f"{row['compound'] or '-'} {row['building'] or ''}")


COMMANDS = (case_command, cases_command)
