"""Calling a case off in own words (撤单): "不弄了，没事了", "算了不用来了", "已经自己弄好了，不用来了".

The resident's latest open case is cancelled as the 取消 command would, if nobody has taken it up yet and it
is no emergency; otherwise the words go on the case and to the staff who hold it (they confirm with the
resident and close it), and the resident is told so. While Mulin asks for an address, the question is left.
With nothing open the message goes on to the next route (thanks, news).
"""
from __future__ import annotations

from bot.constants import CaseStatus, Priority
from bot.domain import case_queries
from bot.domain.case_notify import notify
from bot.domain.cases import add_event
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, render_text
from handlers.conversation import commands, memory
from handlers.conversation.actions import CONTINUE
from handlers.conversation.context import Context
from handlers.conversation.states import ASKING_ADDRESS
from handlers.understanding.replies import is_cancel

WITHDRAW = "withdraw"  # the staff alert's kind: the resident says it is no longer needed


def check(msg: Inbound) -> bool:
    """Pure check: a short message that calls a case off."""
    return is_cancel(msg.text)


def answer(ctx: Context, msg: Inbound) -> str | None:
    """Cancel the latest open case, or tell its staff that the resident no longer needs it."""
    case = case_queries.latest_open(ctx.session, msg.openid)
    if memory.load(ctx, msg.openid).name in ASKING_ADDRESS:
        return commands.cancel(ctx, msg)
    if case is None:
        return CONTINUE
    cancellable = case.status == CaseStatus.OPEN and case.first_response_at is None
    if cancellable and case.priority != Priority.CRITICAL:
        reply = commands.cancel(ctx, msg)
        add_event(ctx.session, case, "message", actor="resident", now=ctx.now, note=msg.text)
        return reply
    event = add_event(ctx.session, case, "message", actor="resident", now=ctx.now, note=msg.text)
    notify(ctx.session, case, case.department, ctx.now, f"{WITHDRAW}-{event.id}", note=msg.text)
    return render_text("intake/withdraw_noted", case=case, department=label("department", case.department))
