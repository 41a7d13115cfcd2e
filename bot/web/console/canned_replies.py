"""常用回复: the staff-edited ready-made replies (templates/console/canned_replies.yaml) the case page offers."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from flask import current_app

from bot.config import ROOT, ConfigError

PATH = ROOT / "templates" / "console" / "canned_replies.yaml"
MAX_TEXT = 600  # the reply form's limit (bot/web/console/case_actions.py MAX_REPLY)


@dataclass(frozen=True)
class CannedReply:
    """One ready-made reply: its title in the list and the text put into the reply box."""

    title: str
    text: str


def load(path: str | Path | None = None) -> tuple[CannedReply, ...]:
    """The checked file; ConfigError (one start-up line naming the file) when it cannot work."""
    path = Path(path) if path else PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path.name}: 无法读取常用回复 / cannot be read ({exc})") from None
    if not isinstance(data, list):
        raise ConfigError(f"{path.name}: 应为列表 / must be a list of entries with a title and a text")
    replies = []
    for number, entry in enumerate(data, 1):
        title = entry.get("title") if isinstance(entry, dict) else None
        text = entry.get("text") if isinstance(entry, dict) else None
        if not isinstance(title, str) or not title.strip() or not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{path.name}: 第{number}条缺少 title 或 text / entry {number} needs a title and a text")
        if len(text.strip()) > MAX_TEXT:
            raise ConfigError(f"{path.name}: 第{number}条超过{MAX_TEXT}字 / entry {number} is over {MAX_TEXT} chars")
        replies.append(CannedReply(title.strip(), text.strip()))
    return tuple(replies)


def current() -> tuple[CannedReply, ...]:
    """The file as it is now (staff may edit it while Mulin runs); none while an edit leaves it broken."""
    try:
        return load(current_app.config.get("CANNED_REPLIES_PATH"))
    except ConfigError as exc:
        current_app.logger.warning("canned replies not shown: %s", exc)
        return ()
