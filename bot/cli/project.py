"""`flask --app bot project create|list|show`: thin wrappers over bot.domain.projects."""
from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from bot.clock import fmt_local, utcnow
from bot.domain import projects
from bot.domain.stats import rates_of
from bot.errors import MulinError
from bot.messaging.texts import label, render_text
from bot.services import services

project_group = AppGroup("project", help="Renovation projects (老旧小区整治).")


def _session() -> Session:
    return services(current_app).sessions()


def _fail(exc: MulinError) -> NoReturn:
    raise click.ClickException(render_text("project/error", reason=str(exc)))


def _split(value: str | None) -> list[str] | None:
    """A comma-separated list; Chinese commas count too."""
    return value.replace("\uff0c", ",").replace("\u3001", ",").split(",") if value else None


@project_group.command("create")
@click.option("--name", required=True, help="the project's name")
@click.option("--category", required=True, type=click.Choice(projects.CATEGORIES), help="one of the seven categories")
@click.option("--compound", help="compound (小区) name")
@click.option("--buildings", help="comma-separated building names, e.g. 5,6 (default: the whole compound)")
@click.option("--alleys", help="comma-separated back alleys (背街小巷) outside any compound")
@click.option("--unit", required=True, help="the responsible unit (负责单位)")
@click.option("--contact", required=True, help="the contractor's phone, shown to residents")
@click.option("--unit-openid", "unit_openids", multiple=True, 
              help="an openid of the unit's staff, told of its cases (repeatable)")
@click.option("--phase", "phases", multiple=True, required=True, help='"名称,YYYY-MM-DD,YYYY-MM-DD" (repeatable)')
def create_command(name: str, category: str, compound: str | None, buildings: str | None, alleys: str | None,
                   unit: str, contact: str, unit_openids: tuple[str, ...], phases: tuple[str, ...]) -> None:
    """Create a project and print its id; residents hear of each phase a few days before it starts."""
    with _session() as session:
        try:
            project = projects.create_project(
                session, name=name, category=category, compound=compound, buildings=_split(buildings),
                alleys=_split(alleys), unit=unit, contact=contact, unit_openids=list(unit_openids),
                phases=[projects.parse_phase(p) for p in phases], actor="cli", now=utcnow())
        except MulinError as exc:
            _fail(exc)
        session.commit()
        click.echo(project.id)


@project_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Import projects from CSV: name,category,compound,buildings,unit,contact,phase,starts_on,ends_on
    (one row per phase; optional alleys, unit_openids). Nothing is stored when a line is wrong."""
    with _session() as session:
        try:
            counts = projects.import_projects(session, path, actor="cli", now=utcnow())
        except MulinError as exc:
            _fail(exc)
        session.commit()
        click.echo(render_text("project/imported", **counts))


@project_group.command("status")
@click.argument("project_id", type=int)
@click.argument("status", type=click.Choice(projects.STATUSES))
def status_command(project_id: int, status: str) -> None:
    """Suspend (suspended), cancel (cancelled) or resume (active) a project."""
    with _session() as session:
        try:
            project = projects.set_status(session, project_id, status)
        except MulinError as exc:
            _fail(exc)
        session.commit()
        click.echo(render_text("project/status", p=project, s=projects.stage(project, projects.today(utcnow()))))


@project_group.command("list")
def list_command() -> None:
    """Every project with its stage, places, dates and unit."""
    day = projects.today(utcnow())
    with _session() as session:
        rows = [(p, projects.stage(p, day)) for p in projects.list_projects(session)]
        click.echo(render_text("project/list", rows=rows, places=projects.place_text))


@project_group.command("show")
@click.argument("project_id", type=int)
def show_command(project_id: int) -> None:
    """One project: phases, affected places, linked cases and their three rates."""
    now = utcnow()
    with _session() as session:
        try:
            project = projects.get_project(session, project_id)
        except MulinError as exc:
            _fail(exc)
        cases = projects.cases_of(session, project)
        click.echo(render_text("project/show", p=project, s=projects.stage(project, projects.today(now)),
                               places=projects.place_text(project), cases=cases, rates=rates_of(cases, now),
                               date=fmt_local, status=lambda s: label("status", s)))
