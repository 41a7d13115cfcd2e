"""`flask --app bot notice create|list|show|cancel|sheet`: thin wrappers over bot.domain.notices and door_sheets."""
from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup

from bot.cli.common import open_session
from bot.clock import fmt_local, parse_local, utcnow
from bot.domain import door_sheets, notices
from bot.errors import MulinError
from bot.messaging.gateway import SendError
from bot.messaging.texts import render_text
from bot.services import services

notice_group = AppGroup("notice", help="Hallway-cleanup notices.")


def _fail(exc: MulinError) -> NoReturn:
    raise click.ClickException(render_text("notice/error", reason=str(exc)))


@notice_group.command("create")
@click.option("--compound", help="compound (小区) name")
@click.option("--community", help="community (社区) name: every compound in it")
@click.option("--buildings", help="comma-separated building names, e.g. 1,2,6 (default: all)")
@click.option("--at", "at", required=True, help='cleanup time "YYYY-MM-DD HH:MM", Asia/Shanghai')
@click.option("--text", required=True, help="what residents should do")
def create_command(compound: str | None, community: str | None, buildings: str | None, at: str, text: str) -> None:
    """Create a notice, say how many residents each channel will reach (and who cannot be reached),
    and print its id on the last line."""
    try:
        cleanup_at = parse_local(at)
    except ValueError as exc:
        raise click.BadParameter('expected "YYYY-MM-DD HH:MM"', param_hint="--at") from exc
    names = buildings.replace("\uff0c", ",").split(",") if buildings else None
    with open_session() as session:
        try:
            notice = notices.create_notice(session, compound=compound, community=community, buildings=names,
                                           cleanup_at=cleanup_at, text=text, actor="cli", now=utcnow(),
                                           offsets=current_app.config["NOTICE_OFFSETS_MINUTES"])
        except MulinError as exc:
            _fail(exc)
        session.commit()
        forecast = notices.reach_forecast(session, notice, services(current_app).gateway,
                                          current_app.config["TEMPLATE_IDS"], utcnow())
        click.echo(render_text("notice/forecast", f=forecast, date=fmt_local))
        click.echo(notice.id)


@notice_group.command("list")
def list_command() -> None:
    """Every notice with its delivery counts."""
    with open_session() as session:
        rows = [(n, notices.notice_progress(session, n)) for n in notices.list_notices(session)]
        click.echo(render_text("notice/list", rows=rows, date=fmt_local))


@notice_group.command("show")
@click.argument("notice_id", type=int)
def show_command(notice_id: int) -> None:
    """One notice: target, text, and pending/sent/failed counts with reasons."""
    with open_session() as session:
        try:
            notice = notices.get_notice(session, notice_id)
        except MulinError as exc:
            _fail(exc)
        click.echo(render_text("notice/show", n=notice, p=notices.notice_progress(session, notice), date=fmt_local))


@notice_group.command("cancel")
@click.argument("notice_id", type=int)
def cancel_command(notice_id: int) -> None:
    """Cancel a notice: what has not been sent is not sent."""
    with open_session() as session:
        try:
            notice = notices.cancel_notice(session, notice_id, actor="cli", now=utcnow())
        except MulinError as exc:
            _fail(exc)
        session.commit()
        click.echo(render_text("notice/cancelled", n=notice, p=notices.notice_progress(session, notice)))


@notice_group.command("sheet")
@click.argument("notice_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="the PDF file")
def sheet_command(notice_id: int, out: Path) -> None:
    """Printable A4 unit-door sheets: one page per targeted building, with its QR code."""
    svc = services(current_app)
    street = door_sheets.Street(current_app.config["STREET_NAME"], current_app.config["STREET_CONTACT"])
    with open_session() as session:
        try:
            pdf, pages = door_sheets.for_notice(session, notices.get_notice(session, notice_id), svc.gateway, street)
        except (MulinError, SendError) as exc:
            raise click.ClickException(render_text("notice/error", reason=str(exc))) from exc
    out.write_bytes(pdf)
    click.echo(render_text("notice/sheet_saved", pages=pages, out=out))
