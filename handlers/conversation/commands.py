"""Commands that work in any state (取消, 人工, 修改地址, 我的工单, 帮助) and the welcome."""
from __future__ import annotations

from sqlalchemy import select

from bot.clock import fmt_local
from bot.domain import case_queries, residents
from bot.domain.cases import add_event, create_case, notify_department, transition
from bot.constants import OPEN_STATUSES, CaseStatus
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, render_text
from bot.storage.models import Case, Compound
from handlers.conversation import memory
from handlers.conversation.actions import Action
from handlers.conversation.context import Context
from handlers.conversation.states import ASKING_ADDRESS, DialogueState, State
from handlers.intents import FALLBACK
from handlers.understanding.words import command_of


def is_command(msg: Inbound) -> bool:
    """Pure check: the whole message is one of the command words."""
    return command_of(msg.text) is not None


def run(ctx: Context, msg: Inbound) -> str | None:
    """Run the command the message names."""
    return ACTIONS[command_of(msg.text) or "help"](ctx, msg)


def cancel(ctx: Context, msg: Inbound) -> str:
    """Leave the open question; otherwise cancel the latest case if nobody has accepted it yet."""
    state = memory.load(ctx, msg.openid)
    memory.save(ctx, msg.openid, State())
    if state.name in ASKING_ADDRESS:
        return render_text("intake/question_cancelled")
    case = case_queries.latest_open(ctx.session, msg.openid)
    if case is None:
        return render_text("intake/nothing_to_cancel")
    if case.status != CaseStatus.OPEN or case.first_response_at is not None:
        return render_text("intake/cannot_cancel", case=case, status=label("status", case.status))
    transition(ctx.session, case, "cancel", actor="resident", now=ctx.now)
    return render_text("intake/case_cancelled", case=case)


def handoff(ctx: Context, msg: Inbound) -> str:
    """A person takes over: flag the case (creating one from what was said) and stop asking."""
    session, now = ctx.session, ctx.now
    state = memory.load(ctx, msg.openid)
    case = session.get(Case, state.data.get("case_id") or 0) or case_queries.latest_open(session, msg.openid)
    if case is None or case.status not in OPEN_STATUSES:
        pending = state.data.get("pending") or {"text": msg.text, "intent": FALLBACK,
                                                "priority": ctx.classifier.spec(FALLBACK).priority, "also": []}
        resident = residents.get_or_create(session, msg.openid, now)
        case = create_case(session, openid=msg.openid, text=pending["text"], intent=pending["intent"],
                           priority=pending["priority"], also=tuple(pending.get("also") or ()),
                           resident=resident, now=now)
    case.handoff = True
    event = add_event(session, case, "handoff", actor="resident", now=now)
    notify_department(session, case, now, kind=f"handoff-{event.id}")
    memory.save(ctx, msg.openid, State(DialogueState.HANDOFF, {"case_id": case.id}))
    return render_text("intake/handoff", case=case, department=label("department", case.department))


def change_address(ctx: Context, msg: Inbound) -> str:
    """Ask for the address again, keeping a report that waits for it."""
    state = memory.load(ctx, msg.openid)
    keep = {k: v for k, v in state.data.items() if k in ("pending", "hint", "hint_sure")}
    memory.save(ctx, msg.openid, State(DialogueState.AWAIT_ADDRESS, keep))
    return render_text("intake/change_address")


def my_cases(ctx: Context, msg: Inbound) -> str:
    """The resident's latest cases with their status (the dialogue's state is kept)."""
    rows = [{"number": c.number, "intent": label("intent", c.intent), "status": label("status", c.status),
             "created": fmt_local(c.created_at, "%m-%d %H:%M")}
            for c in case_queries.of_resident(ctx.session, msg.openid)]
    return render_text("intake/my_cases", cases=rows)


def help_text(ctx: Context, msg: Inbound) -> str:
    """How to use Mulin."""
    return render_text("intake/help")


def welcome(ctx: Context, msg: Inbound) -> str:
    """Subscribe or scan: welcome; a compound's QR code (EventKey) suggests the compound."""
    compound = None
    if msg.event_key:
        compound = ctx.session.scalars(select(Compound).where(Compound.qr_scene == msg.event_key)).one_or_none()
    resident = residents.get_or_create(ctx.session, msg.openid, ctx.now)
    text = render_text("welcome", street=ctx.street_name)
    if compound is not None and resident.building_id is None:
        state = memory.load(ctx, msg.openid)
        name = state.name if state.name in ASKING_ADDRESS else DialogueState.AWAIT_ADDRESS
        memory.save(ctx, msg.openid, State(name, {**state.data, "hint": compound.id, "hint_sure": True}))
        text += "\n\n" + render_text("intake/welcome_compound", compound=compound.name)
    return text


ACTIONS: dict[str, Action] = {
    "cancel": cancel, "handoff": handoff, "address": change_address, "my_cases": my_cases, "help": help_text,
}
