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


def answer(ctx: Context, msg: Inbound) -> str:
    """Bind, or say politely why not."""
    try:
        user = staff_binding.bind(ctx.session, msg.openid, _code(msg) or "", ctx.now)
    except staff_binding.BindRefused as refused:
        return render_text("staff/bind_refused", reason=refused.reason)
    return render_text("staff/bind_ok", username=user.username,
                       department=label("department", staff_binding.department_of(user)))


def is_scan(msg: Inbound) -> bool:
    """Pure check: a subscribe or scan event of a binding QR code."""
    return msg.event in SCAN_EVENTS and (msg.event_key or "").startswith(staff_binding.SCENE_PREFIX)


def scan(ctx: Context, msg: Inbound) -> str:
    """Bind from the QR code's scene; a new follower is welcomed too."""
    code = (msg.event_key or "")[len(staff_binding.SCENE_PREFIX):]
    try:
        user = staff_binding.bind(ctx.session, msg.openid, code, ctx.now)
        text = render_text("staff/bind_ok", username=user.username,
                           department=label("department", staff_binding.department_of(user)))
    except staff_binding.BindRefused as refused:
        text = render_text("staff/bind_refused", reason=refused.reason)
    if msg.event == "scan":
        return text
    return render_text("welcome", street=ctx.street_name) + "\n\n" + text
