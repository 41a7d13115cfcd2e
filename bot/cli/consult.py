"""`flask --app bot consult create|results|list`: thin wrappers over bot.domain.consultations."""
from __future__ import annotations

from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from bot.clock import fmt_local, parse_local, utcnow
from bot.domain import consultations
from bot.errors import MulinError
from bot.messaging.texts import render_text
from bot.services import services

consult_group = AppGroup("consult", help="Consultations (征求意见): a question put to residents.")


def _session() -> Session:
    return services(current_app).sessions()


def _fail(exc: MulinError) -> NoReturn:
    raise click.ClickException(render_text("consult/error", reason=str(exc)))


def _split(value: str) -> list[str]:
    """A comma-separated list; Chinese commas count too."""
    return value.replace("\uff0c", ",").replace("\u3001", ",").split(",")


@consult_group.command("create")
@click.option("--compound", help="compound (小区) name")
@click.option("--community", help="community (社区) name: every compound in it")
@click.option("--buildings", help="comma-separated building names, e.g. 5,6 (default: all)")
@click.option("--question", required=True, help="the question residents answer")
@click.option("--options", required=True, help='2 to 6 comma-separated options, e.g. "同意,不同意"')
@click.option("--until", required=True, help='end time "YYYY-MM-DD HH:MM", Asia/Shanghai')
def create_command(compound: str | None, community: str | None, buildings: str | None, question: str,
                   options: str, until: str) -> None:
    """Create a consultation and print its id; the scheduler sends it at once."""
    try:
        closes_at = parse_local(until)
    except ValueError as exc:
        raise click.BadParameter('expected "YYYY-MM-DD HH:MM"', param_hint="--until") from exc
    with _session() as session:
        try:
            consultation = consultations.create_consultation(
                session, compound=compound, community=community, buildings=_split(buildings) if buildings else None,
                question=question, options=_split(options), closes_at=closes_at, actor="cli", now=utcnow())
        except MulinError as exc:
            _fail(exc)
        session.commit()
        click.echo(consultation.id)


@consult_group.command("results")
@click.argument("consultation_id", type=int)
@click.option("--csv", "as_csv", is_flag=True, help="print CSV (per building and overall) instead of text")
def results_command(consultation_id: int, as_csv: bool) -> None:
    """Results per building and overall, with turnout (each household counted once, latest answer)."""
    with _session() as session:
        try:
            consultation = consultations.get_consultation(session, consultation_id)
        except MulinError as exc:
            _fail(exc)
        results = consultations.tally(session, consultation)
        if as_csv:
            click.echo(consultations.results_csv(results), nl=False)
            return
        click.echo(render_text("consult/results", c=consultation, r=results,
                               place=render_text("consult/place", t=consultation.target),
                               closes=fmt_local(consultation.closes_at)))


@consult_group.command("list")
def list_command() -> None:
    """Every consultation with its turnout so far."""
    with _session() as session:
        rows = [(c, consultations.tally(session, c)) for c in consultations.list_consultations(session)]
        click.echo(render_text("consult/list", rows=rows, date=fmt_local,
                               place=lambda t: render_text("consult/place", t=t)))
