"""The property company refused (物业说不归他们管, 找过物业了，物业不管) a case routed to it.

routing.yaml's `refused` rules decide where such a case goes (the community's grid worker and mediator,
网格员/调解员); the case is reassigned there with the resident's words (its staff are told) and the
resident is told who has it now. A new report that says so is routed the same way by create_case.
"""
from __future__ import annotations

from sqlalchemy import select

from bot.clock import fmt_local
from bot.constants import OPEN_STATUSES, Department
from bot.domain.case_notify import notify
from bot.domain.cases import reassign
from bot.domain.routing import decide, property_refused
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, render_text
from bot.storage.models import Case
from handlers.conversation.actions import CONTINUE
from handlers.conversation.context import Context

REFUSED = "refused"


def check(msg: Inbound) -> bool:
    """Pure check: the message says the property company refused."""
    return property_refused(msg.text)


def answer(ctx: Context, msg: Inbound) -> str | None:
    """Move the resident's latest open property case as routing.yaml's refused rule says; else a new report."""
    case = ctx.session.scalars(
        select(Case).where(Case.openid == msg.openid, Case.status.in_(OPEN_STATUSES),
                           Case.department == Department.PROPERTY)
        .order_by(Case.created_at.desc(), Case.id.desc()).limit(1)).first()
    if case is None:
        return CONTINUE  # intake: a new report that says so is routed by the same rule
    decision = decide(case.intent, case.priority, REFUSED, msg.text or "")
    if decision.department == case.department:
        return CONTINUE  # no rule moves this kind of case: added to it as usual
    reassign(ctx.session, case, decision.department, actor="resident", now=ctx.now, note=msg.text)
    for department in decision.inform:
        notify(ctx.session, case, department, ctx.now, f"inform-refused-{case.id}", note=msg.text)
    return render_text("intake/property_refused", case=case, department=label("department", case.department),
                       due=fmt_local(case.due_at))
