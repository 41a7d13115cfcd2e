"""Chasing a case (催办) in the resident's words: "说好的师傅呢", "之前报的那个漏水有人管吗".

The reply gives the open case's number, status, time limit (Asia/Shanghai) and who has it; the
department's staff are told (a `chase` event on the case, counted in the console). With several
open cases, the one whose kind the message names (漏水 → the leak case), else the latest. A message
that names a kind the resident has no open case of is a new report (the next route).
"""
from __future__ import annotations

from sqlalchemy import func, select

from bot.clock import fmt_local
from bot.constants import OPEN_STATUSES
from bot.domain.case_notify import notify
from bot.domain.cases import add_event
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, render_text
from bot.storage.models import Case, CaseEvent
from handlers.conversation.actions import CONTINUE
from handlers.conversation.context import Context
from handlers.intents import FALLBACK
from handlers.understanding.replies import is_chase

CHASE = "chase"


def check(msg: Inbound) -> bool:
    """Pure check: the message chases a case."""
    return is_chase(msg.text)


def chased_case(ctx: Context, openid: str, text: str) -> Case | None:
    """The open case the message is about: of the kind it names, else the latest; None when there is none."""
    open_cases = list(ctx.session.scalars(
        select(Case).where(Case.openid == openid, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.created_at.desc(), Case.id.desc())))
    c = ctx.classifier.classify(text)
    if c.intent != FALLBACK and c.terms:
        return next((case for case in open_cases if case.intent == c.intent), None)
    return open_cases[0] if open_cases else None


def chase_count(ctx: Context, case: Case) -> int:
    """How often the resident has chased the case."""
    return ctx.session.scalar(select(func.count()).where(CaseEvent.case_id == case.id,
                                                         CaseEvent.kind == CHASE)) or 0


def answer(ctx: Context, msg: Inbound) -> str | None:
    """Record the chase, tell the department's staff, give the resident the case's standing."""
    case = chased_case(ctx, msg.openid, msg.text or "")
    if case is None:
        return CONTINUE
    event = add_event(ctx.session, case, CHASE, actor="resident", now=ctx.now, note=msg.text)
    times = chase_count(ctx, case)
    notify(ctx.session, case, case.department, ctx.now, f"{CHASE}-{event.id}", note=msg.text)
    return render_text("intake/chase", case=case, intent=label("intent", case.intent),
                       status=label("status", case.status), department=label("department", case.department),
                       due=fmt_local(case.due_at), overdue=case.due_at < ctx.now, times=times)
