"""After 人工 (asked in any words: "找真人", "转人工客服", "别让机器回了"): a person has the case.

The resident's later messages are stored on the case *and* pushed to the staff holding it (a staff
notification through the outbox, the message itself in it), for as long as the case is open: the
dialogue's HANDOFF state lasts 30 minutes, the case's `handoff` flag in the database outlasts it.
"""
from __future__ import annotations

from sqlalchemy import select

from bot.constants import OPEN_STATUSES
from bot.domain import message_facts
from bot.domain.case_notify import notify
from bot.domain.cases import add_event
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, render_text
from bot.storage.models import Case
from handlers.conversation import commands, memory
from handlers.conversation.actions import CONTINUE
from handlers.conversation.context import Context
from handlers.conversation.states import DialogueState, State
from handlers.understanding.replies import is_handoff
from handlers.understanding.words import command_of


def asks_for_person(msg: Inbound) -> bool:
    """Pure check: a short message asking for a person in words other than the 人工 command."""
    return command_of(msg.text) is None and is_handoff(msg.text)


def to_person(ctx: Context, msg: Inbound) -> str | None:
    """Dispatch action for asks_for_person: the 人工 command's handoff."""
    return commands.handoff(ctx, msg)


def forward(ctx: Context, msg: Inbound, case: Case) -> str:
    """Store the message on the handed-off case and push it to the staff who hold it."""
    event = add_event(ctx.session, case, "message", actor="resident", now=ctx.now, note=msg.text)
    told = notify(ctx.session, case, case.department, ctx.now, f"message-{event.id}", note=msg.text)
    return render_text("intake/handoff_note", case=case, department=label("department", case.department),
                       told=told)


def is_text(msg: Inbound) -> bool:
    """Pure check: a text message (the action looks for a handed-off case)."""
    return msg.text is not None


def handed_off(ctx: Context, msg: Inbound) -> str | None:
    """A message from a resident whose open case a person has, once the dialogue's HANDOFF state expired."""
    if message_facts.none(ctx.session, msg.openid, "handoff"):
        return CONTINUE  # no such case: known from the message's facts, no query
    case = ctx.session.scalars(
        select(Case).where(Case.openid == msg.openid, Case.status.in_(OPEN_STATUSES), Case.handoff.is_(True))
        .order_by(Case.created_at.desc(), Case.id.desc()).limit(1)).first()
    if case is None or memory.load(ctx, msg.openid).name != DialogueState.IDLE:
        return CONTINUE  # the dialogue's own step (HANDOFF: after_report.to_person; an open question: its answer)
    memory.save(ctx, msg.openid, State(DialogueState.HANDOFF, {"case_id": case.id}))
    return forward(ctx, msg, case)
