"""`flask --app bot menu check|push`: the account's custom menu, declared in templates/menu.yaml."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from bot.messaging.gateway import SendError
from bot.messaging.texts import render_text
from bot.services import services
from handlers.conversation.menu import MENU_FILE, InvalidMenu, click_buttons, load_menu

menu_group = AppGroup("menu", help="The official account's custom menu.")


def _load(path: Path) -> dict[str, Any]:
    try:
        return load_menu(path)
    except InvalidMenu as exc:
        raise click.ClickException(str(exc)) from exc


_FILE = click.option("--file", "path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                     default=MENU_FILE, show_default=True, help="the menu file")


@menu_group.command("check")
@_FILE
def check_command(path: Path) -> None:
    """Check the menu file without sending it."""
    menu = _load(path)
    click.echo(render_text("menu/checked", buttons=menu["button"], clicks=len(click_buttons(menu))))


@menu_group.command("push")
@_FILE
def push_command(path: Path) -> None:
    """Send the menu file to WeChat (menu/create replaces the account's menu)."""
    menu = _load(path)
    try:
        services(current_app).gateway.create_menu(menu)
    except SendError as exc:
        raise click.ClickException(render_text("notice/error", reason=str(exc))) from exc
    click.echo(render_text("menu/pushed", buttons=menu["button"]))
