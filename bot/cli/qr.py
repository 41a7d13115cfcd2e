"""`flask --app bot qr --compound C [--building B] --out DIR`: a permanent QR code per building, saved as PNG."""
from __future__ import annotations

import re
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.domain import door_sheets
from bot.errors import MulinError
from bot.messaging import qrcodes
from bot.messaging.gateway import SendError
from bot.messaging.texts import render_text
from bot.services import services

UNSAFE = re.compile(r'[\\/:*?"<>|\s]')  # characters no file name should carry, on any system


@click.command("qr")
@click.option("--compound", required=True, help="compound (小区) name")
@click.option("--building", help="one building name, e.g. 5 (default: every building of the compound)")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for the PNG files (created if missing)")
@with_appcontext
def qr_command(compound: str, building: str | None, out: Path) -> None:
    """Create each building's permanent QR code through WeChat and save its image."""
    svc = services(current_app)
    with svc.sessions() as session:
        try:
            buildings = door_sheets.compound_buildings(session, compound, building)
        except MulinError as exc:
            raise click.ClickException(render_text("notice/error", reason=str(exc))) from exc
        out.mkdir(parents=True, exist_ok=True)
        rows = []
        for b in buildings:
            scene = qrcodes.building_scene(b.id)
            try:
                code = qrcodes.fetch(svc.gateway, scene)
            except SendError as exc:
                raise click.ClickException(render_text("notice/error", reason=str(exc))) from exc
            path = out / UNSAFE.sub("_", f"{compound}-{b.name}.png")
            path.write_bytes(code.png)
            rows.append({"file": path.name, "scene": scene})
    click.echo(render_text("qr/saved", rows=rows, out=out))
