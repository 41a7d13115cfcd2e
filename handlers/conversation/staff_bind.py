"""A staff member's "绑定 123456": link this WeChat to their console account (bot/domain/staff_binding.py)."""
from __future__ import annotations

import re
import unicodedata

from bot.domain import staff_binding
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, render_text
from handlers.conversation.context import Context

_BIND = re.compile(r"^\s*绑定\s*[:：]?\s*(\d*)\s*$")


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
