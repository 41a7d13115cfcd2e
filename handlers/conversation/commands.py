"""Commands that work in any state (取消, 人工, 修改地址, 我的工单, 帮助) and the welcome."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import case_queries, residents
from bot.domain.cases import add_event, create_case, notify_department, transition
from bot.clock import fmt_local
from bot.constants import OPEN_STATUSES, CaseStatus
from bot.messaging.inbound import Inbound
from bot.storage.models import Case, Compound
from bot.messaging.texts import label, render_text
from handlers.conversation import dialogue
from bot.services import services
from handlers.intents import FALLBACK
from handlers.understanding.words import command_of

ASKING = ("await_address", "confirm_address")


def is_command(msg: Inbound) -> bool:
    """Pure check: the whole message is one of the command words."""
    return command_of(msg.text) is not None


def run(session: Session, msg: Inbound, now: datetime) -> str | None:
    """Run the command the message names."""
    return ACTIONS[command_of(msg.text) or "help"](session, msg, now)


def cancel(session: Session, msg: Inbound, now: datetime) -> str:
    """Leave the open question; otherwise cancel the latest case if nobody has accepted it yet."""
    state = dialogue.load(msg.openid)
    dialogue.save(session, msg.openid, dialogue.State())
    if state.name in ASKING:
        return render_text("intake/question_cancelled")
    case = case_queries.latest_open(session, msg.openid)
    if case is None:
        return render_text("intake/nothing_to_cancel")
    if case.status != CaseStatus.OPEN or case.first_response_at is not None:
        return render_text("intake/cannot_cancel", case=case, status=label("status", case.status))
    transition(session, case, "cancel", actor="resident", now=now)
    return render_text("intake/case_cancelled", case=case)


def handoff(session: Session, msg: Inbound, now: datetime) -> str:
    """A person takes over: flag the case (creating one from what was said) and stop asking."""
    state = dialogue.load(msg.openid)
    case = session.get(Case, state.data.get("case_id") or 0) or case_queries.latest_open(session, msg.openid)
    if case is None or case.status not in OPEN_STATUSES:
        fallback = services(current_app).classifier.spec(FALLBACK)
        pending = state.data.get("pending") or {"text": msg.text, "intent": FALLBACK,
                                                "priority": fallback.priority, "also": []}
        resident = residents.get_or_create(session, msg.openid, now)
        case = create_case(session, openid=msg.openid, text=pending["text"], intent=pending["intent"],
                           priority=pending["priority"], also=tuple(pending.get("also") or ()),
                           resident=resident, now=now)
    case.handoff = True
    event = add_event(session, case, "handoff", actor="resident", now=now)
    notify_department(session, case, now, kind=f"handoff-{event.id}")
    dialogue.save(session, msg.openid, dialogue.State("handoff", {"case_id": case.id}))
    return render_text("intake/handoff", case=case, department=label("department", case.department))


def change_address(session: Session, msg: Inbound, now: datetime) -> str:
    """Ask for the address again, keeping a report that waits for it."""
    state = dialogue.load(msg.openid)
    keep = {k: v for k, v in state.data.items() if k in ("pending", "hint", "hint_sure")}
    dialogue.save(session, msg.openid, dialogue.State("await_address", keep))
    return render_text("intake/change_address")


def my_cases(session: Session, msg: Inbound, now: datetime) -> str:
    """The resident's latest cases with their status (the dialogue's state is kept)."""
    rows = [{"number": c.number, "intent": label("intent", c.intent), "status": label("status", c.status),
             "created": fmt_local(c.created_at, "%m-%d %H:%M")} for c in case_queries.of_resident(session, msg.openid)]
    return render_text("intake/my_cases", cases=rows)


def help_text(session: Session, msg: Inbound, now: datetime) -> str:
    """How to use Mulin."""
    return render_text("intake/help")


def welcome(session: Session, msg: Inbound, now: datetime) -> str:
    """Subscribe or scan: welcome; a compound's QR code (EventKey) suggests the compound."""
    compound = None
    if msg.event_key:
        compound = session.scalars(select(Compound).where(Compound.qr_scene == msg.event_key)).one_or_none()
    resident = residents.get_or_create(session, msg.openid, now)
    text = render_text("welcome", street=current_app.config["STREET_NAME"])
    if compound is not None and resident.building_id is None:
        state = dialogue.load(msg.openid)
        dialogue.save(session, msg.openid, dialogue.State(state.name if state.name in ASKING else "await_address",
                                                 {**state.data, "hint": compound.id, "hint_sure": True}))
        text += "\n\n" + render_text("intake/welcome_compound", compound=compound.name)
    return text


ACTIONS: dict[str, Callable[[Session, Inbound, datetime], str]] = {
    "cancel": cancel, "handoff": handoff, "address": change_address, "my_cases": my_cases, "help": help_text,
}
