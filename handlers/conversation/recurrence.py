"""A report that a recently finished case's problem is back or was never fixed ("还是漏，没修好", "纸箱子又堆回来了").

The resident's finished case of that kind, resolved within RECURRENCE_WINDOW (bot.domain.case_queries) at the
address the resident reports from, is reopened with their words as the reason: its department is told, with the
reason, as after 不满意, and the case keeps its history instead of a second case starting without it. The reply
tells the number and the new time limit itself (no status message besides). Words that say so are replies.yaml's
satisfaction.not_solved. Older, elsewhere, or said without those words, a report opens a case as usual.
"""
from __future__ import annotations

from typing import Any

from bot.clock import fmt_local
from bot.constants import Priority
from bot.domain import case_queries
from bot.domain.cases import transition
from bot.messaging.texts import label, render_text
from bot.storage.models import Case, Resident
from handlers.conversation.advice import advice
from handlers.conversation.context import Context
from handlers.conversation.states import DialogueState, Step
from handlers.intents import FALLBACK
from handlers.understanding.replies import says_not_solved


def case_of(ctx: Context, resident: Resident, pending: dict[str, Any]) -> Case | None:
    """The finished case this report says is not over, if there is one."""
    if pending["intent"] == FALLBACK or not says_not_solved(pending["text"]):
        return None
    case = case_queries.recently_resolved(ctx.session, resident.openid, pending["intent"], ctx.now)
    return case if case is not None and case.building_id == resident.building_id else None


def reopen(ctx: Context, case: Case, pending: dict[str, Any]) -> Step:
    """Reopen the case with the resident's words; reply with its number, department and time limit."""
    resolved = fmt_local(case.resolved_at)
    transition(ctx.session, case, "reopen", actor="resident", now=ctx.now, note=pending["text"], tell_resident=False)
    critical = case.priority == Priority.CRITICAL
    safety = pending.get("safety") or ctx.classifier.spec(case.intent).safety
    reply = render_text("intake/reopened", case=case, intent=label("intent", case.intent), resolved=resolved,
                        department=label("department", case.department), due=fmt_local(case.due_at),
                        safety=advice(safety, pending["text"]) if critical else "")
    return Step(reply, DialogueState.DETAILS, {"case_id": case.id})
