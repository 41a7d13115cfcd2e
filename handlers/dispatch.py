"""The ordered table that routes each inbound message or event to one action."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask import current_app
from sqlalchemy.orm import Session

from bot import residents
from bot.inbound import Inbound
from bot.texts import render_text

# Events after which WeChat lets us send customer-service messages for 48 hours.
INTERACTIVE_EVENTS = {"subscribe", "subscribe_scan", "scan", "click"}

Action = Callable[[Session, Inbound, datetime], "str | None"]


@dataclass(frozen=True)
class Route:
    """A pure check and the action taken when it matches."""

    name: str
    check: Callable[[Inbound], bool]
    action: Action


def _welcome(session: Session, msg: Inbound, now: datetime) -> str | None:
    return render_text("welcome", street=current_app.config["STREET_NAME"])


def _unsubscribe(session: Session, msg: Inbound, now: datetime) -> str | None:
    residents.touch(session, msg.openid, now, interactive=False, subscribed=False)
    return None


def _text(session: Session, msg: Inbound, now: datetime) -> str | None:
    return render_text("ack", text=msg.text)


def _media(session: Session, msg: Inbound, now: datetime) -> str | None:
    kind = {"image": "图片", "voice": "语音", "video": "视频", "shortvideo": "小视频",
            "location": "位置", "link": "链接"}.get(msg.msg_type, "消息")
    return render_text("media_ack", kind=kind)


def _silent(session: Session, msg: Inbound, now: datetime) -> str | None:
    return None


ROUTES: tuple[Route, ...] = (
    Route("subscribe", lambda m: m.event in ("subscribe", "subscribe_scan"), _welcome),
    Route("unsubscribe", lambda m: m.event == "unsubscribe", _unsubscribe),
    Route("text", lambda m: m.text is not None, _text),
    Route("media", lambda m: m.msg_type in ("image", "voice", "video", "shortvideo", "location", "link"), _media),
    Route("fallback", lambda m: True, _silent),
)


def handle(session: Session, msg: Inbound, now: datetime) -> str | None:
    """Record the contact, then run the first matching route."""
    interactive = msg.msg_type != "event" or msg.event in INTERACTIVE_EVENTS
    if msg.event != "unsubscribe":
        residents.touch(session, msg.openid, now, interactive=interactive,
                        subscribed=True if msg.event in ("subscribe", "subscribe_scan") else None)
    for route in ROUTES:
        if route.check(msg):
            return route.action(session, msg, now)
    return None
