"""A question about an earlier report that no open case answers ("上次报的漏水修好了吗", "我报的那个事怎么样了").

The chase route answers when an open case fits. What is left is a case already finished, or none on record
(it may have gone to 12345 or by phone): the resident is told which, and a case is opened only when they ask
for one (回复“登记”, as after a rule question). A message that tells the problem in a clause of its own
("楼上漏水了，我之前报过，怎么还没人管") is a report, and so is a chase that names no earlier report.
"""
from __future__ import annotations

from typing import Any

from bot.clock import fmt_local
from bot.domain import case_queries
from bot.messaging.texts import label, render_text
from handlers.conversation.context import Context
from handlers.conversation.states import Step
from handlers.intents import FALLBACK
from handlers.understanding.classifier import Classification
from handlers.understanding.replies import is_chase, refers_to_earlier
from handlers.understanding.words import clauses


def asks_about(ctx: Context, text: str, c: Classification) -> bool:
    """Whether the message asks how an earlier report went, and tells no problem besides."""
    if not (is_chase(text) and refers_to_earlier(text)):
        return False
    return c.intent == FALLBACK or not any(
        ctx.classifier.classify(clause).intent != FALLBACK for clause, _ in clauses(text, len(text))
        if not refers_to_earlier(clause) and not is_chase(clause))


def answer(ctx: Context, openid: str, c: Classification, pending: dict[str, Any]) -> Step:
    """What is on record of that kind; the problem it names is offered for registering."""
    named = c.intent != FALLBACK
    case = case_queries.latest(ctx.session, openid, c.intent if named else None)
    finished = case.resolved_at or case.closed_at if case is not None else None
    reply = render_text("intake/earlier_report", case=case, offer=named,
                        intent=label("intent", case.intent if case is not None else c.intent if named else None),
                        status=label("status", case.status) if case is not None else "", finished=fmt_local(finished))
    return Step(reply, data={"offered": pending} if named else {})
