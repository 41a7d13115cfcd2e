"""A staff member's "绑定 123456", or a scan of the QR code the console shows (scene "bind:123456"): link this
WeChat to their console account (bot/domain/staff_binding.py)."""
from __future__ import annotations

import re
import unicodedata

from bot.domain import staff_binding
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, render_text
from handlers.conversation.context import Context

_BIND = re.compile(r"^\s*绑定\s*[:：]?\s*(\d*)\s*$")
SCAN_EVENTS = ("subscribe", "subscribe_scan", "scan")


def _code(msg: Inbound) -> str | None:
    match = _BIND.match(unicodedata.normalize("NFKC", msg.text or ""))
    return match.group(1) if match else None


def check(msg: Inbound) -> bool:
    """Pure check: the whole message is 绑定 and (maybe) a code."""
    return msg.text is not None and _code(msg) is not None


def _bind(ctx: Context, openid: str, code: str) -> str:
    """Bind, or say politely why not."""
    try:
        user = staff_binding.bind(ctx.session, openid, code, ctx.now)
    except staff_binding.BindRefused as refused:
        return render_text("staff/bind_refused", reason=refused.reason)
    return render_text("staff/bind_ok", username=user.username,
                       department=label("department", staff_binding.department_of(user)))


def answer(ctx: Context, msg: Inbound) -> str:
    """The typed "绑定 123456"."""
    return _bind(ctx, msg.openid, _code(msg) or "")


def is_scan(msg: Inbound) -> bool:
    """Pure check: a subscribe or scan event of a binding QR code."""
    return msg.event in SCAN_EVENTS and (msg.event_key or "").startswith(staff_binding.SCENE_PREFIX)


def scan(ctx: Context, msg: Inbound) -> str:
    """Bind from the QR code's scene; a new follower is welcomed too."""
    text = _bind(ctx, msg.openid, (msg.event_key or "")[len(staff_binding.SCENE_PREFIX):])
    if msg.event == "scan":
        return text
    return render_text("welcome", street=ctx.street_name) + "\n\n" + text
