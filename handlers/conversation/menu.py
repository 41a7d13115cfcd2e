"""The account's custom menu declared in templates/menu.yaml, checked against the keys Mulin answers.

WeChat refuses a whole menu for one bad button, so the file is checked before it is sent
(`flask --app bot menu push`) and each CLICK key must name one of commands.MENU_ACTIONS.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.config import ROOT
from bot.errors import MulinError
from bot.messaging.texts import render_text
from handlers.conversation.commands import MENU_ACTIONS

MENU_FILE = ROOT / "templates" / "menu.yaml"
MAX_BUTTONS, MAX_SUB_BUTTONS = 3, 5
NAME_WIDTH = {"button": 8, "sub_button": 16}  # WeChat: 4 and 8 Chinese characters, a letter counts half
FIELDS = ("type", "name", "key", "url", "appid", "pagepath")  # what menu/create takes, besides sub_button


class InvalidMenu(MulinError):
    """A menu file WeChat would refuse, or that names a key Mulin does not answer (the message is Chinese)."""

    def __init__(self, path: Path, problem: str, **detail: str) -> None:
        context = {"button": "", "detail": "", "keys": "", **detail}
        super().__init__(render_text("menu/invalid", path=path, problem=problem, **context))


def _width(name: str) -> int:
    return sum(1 if ord(ch) < 128 else 2 for ch in name)


def _button(path: Path, raw: Any, level: str) -> dict[str, Any]:
    """One button checked and reduced to the fields WeChat takes."""
    item = raw if isinstance(raw, dict) else {}
    name = str(item.get("name") or "")
    if not name or _width(name) > NAME_WIDTH[level]:
        raise InvalidMenu(path, "name", button=name)
    if level == "button" and "sub_button" in item:
        subs = item["sub_button"]
        if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB_BUTTONS:
            raise InvalidMenu(path, "sub_buttons", button=name)
        return {"name": name, "sub_button": [_button(path, sub, "sub_button") for sub in subs]}
    kind = item.get("type")
    if kind == "click" and str(item.get("key")) not in MENU_ACTIONS:
        raise InvalidMenu(path, "key", button=name, detail=str(item.get("key")), keys=", ".join(MENU_ACTIONS))
    if kind == "view" and not str(item.get("url") or "").startswith(("http://", "https://")):
        raise InvalidMenu(path, "url", button=name)
    if kind not in ("click", "view"):
        raise InvalidMenu(path, "type", button=name, detail=str(kind))
    return {k: str(item[k]) for k in FIELDS if item.get(k) is not None}


def load_menu(path: Path = MENU_FILE) -> dict[str, Any]:
    """The menu file as WeChat's menu/create body, or InvalidMenu saying what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidMenu(path, "yaml", detail=type(exc).__name__) from exc
    buttons = raw.get("button") if isinstance(raw, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise InvalidMenu(path, "buttons")
    return {"button": [_button(path, b, "button") for b in buttons]}


def click_buttons(menu: dict[str, Any]) -> list[dict[str, Any]]:
    """The menu's click buttons, top-level and sub-buttons, in display order."""
    items = [s for b in menu["button"] for s in b.get("sub_button", [b])]
    return [i for i in items if i.get("type") == "click"]
