"""Commands that work in any state (取消, 人工, 修改地址, 我的工单, 帮助) and the welcome."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import case_queries, notices, residents
from bot.domain.cases import add_event, create_case, notify_department, transition
from bot.clock import fmt_local
from bot.messaging.inbound import Inbound
from bot.messaging.qrcodes import building_of_scene
from bot.storage.models import Building, Case, Compound, Notice, Resident
from bot.messaging.texts import label, render_text
from handlers.conversation import dialogue
from handlers.intents import FALLBACK, get_spec
from handlers.understanding.address import AddressMatch
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
    if case.status != "open" or case.first_response_at is not None:
        return render_text("intake/cannot_cancel", case=case, status=label("status", case.status))
    transition(session, case, "cancel", actor="resident", now=now)
    return render_text("intake/case_cancelled", case=case)


def handoff(session: Session, msg: Inbound, now: datetime) -> str:
    """A person takes over: flag the case (creating one from what was said) and stop asking."""
    state = dialogue.load(msg.openid)
    case = session.get(Case, state.data.get("case_id") or 0) or case_queries.latest_open(session, msg.openid)
    if case is None or case.status not in case_queries.OPEN_STATUSES:
        said = msg.text or render_text("menu/handoff_case")  # the menu's button says nothing itself
        pending = state.data.get("pending") or {"text": said, "intent": FALLBACK,
                                                "priority": get_spec(FALLBACK).priority, "also": []}
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
    """Subscribe or scan: welcome; a building's QR code binds the resident, a compound's suggests the compound."""
    resident = residents.get_or_create(session, msg.openid, now)
    text = render_text("welcome", street=current_app.config["STREET_NAME"])
    building_id = building_of_scene(msg.event_key)
    building = session.get(Building, building_id) if building_id is not None else None
    if building is not None:
        bound = _scanned_building(session, msg.openid, resident, building, now)
        return bound if msg.event == "scan" else text + "\n\n" + bound
    compound = None
    if msg.event_key:
        compound = session.scalars(select(Compound).where(Compound.qr_scene == msg.event_key)).one_or_none()
    if compound is not None and resident.building_id is None:
        state = dialogue.load(msg.openid)
        dialogue.save(session, msg.openid, dialogue.State(state.name if state.name in ASKING else "await_address",
                                                 {**state.data, "hint": compound.id, "hint_sure": True}))
        text += "\n\n" + render_text("intake/welcome_compound", compound=compound.name)
    return text


def _scanned_building(session: Session, openid: str, resident: Resident, building: Building, now: datetime) -> str:
    """A unit-door QR code: bind an unbound resident to the building (opening a report that waited for it)."""
    scanned = render_text("intake/place", compound=building.compound.name, building=building.name, unit="", room="")
    if resident.building_id == building.id:
        return render_text("intake/building_known", address=scanned)
    if resident.building_id is not None:  # a neighbour's door, or a move: never overwrite silently
        current = render_text("intake/place", compound=resident.compound.name if resident.compound else "",
                              building=resident.building.name if resident.building else "",
                              unit=resident.unit or "", room=resident.room or "")
        return render_text("intake/building_other", scanned=scanned, current=current)
    state = dialogue.load(openid)
    waiting = state.data if state.name in ASKING else {}
    step = dialogue.bind(session, openid, AddressMatch("ok", building.compound, building, None, None, 1.0), now,
                         {k: v for k, v in waiting.items() if k not in ("hint", "hint_sure", "candidate")})
    dialogue.save(session, openid, dialogue.State(step.state, step.data))
    return step.reply or ""


ACTIONS: dict[str, Callable[[Session, Inbound, datetime], str]] = {
    "cancel": cancel, "handoff": handoff, "address": change_address, "my_cases": my_cases, "help": help_text,
}


def report_prompt(session: Session, msg: Inbound, now: datetime) -> str:
    """The menu's 我要报事: how to report (the next message is the report)."""
    return render_text("menu/report")


def my_notices(session: Session, msg: Inbound, now: datetime) -> str:
    """The menu's 通知公告: the coming cleanups of the resident's building."""
    resident = residents.get_or_create(session, msg.openid, now)
    if resident.building_id is None:
        return render_text("menu/notices", bound=False, notices=[])
    coming = session.scalars(select(Notice).where(Notice.status == "active", Notice.cleanup_at > now)
                             .order_by(Notice.cleanup_at))
    mine = [n for n in coming
            if session.scalar(notices.recipients_query(n).where(Resident.openid == msg.openid).limit(1))]
    rows = [{"when": fmt_local(n.cleanup_at, "%m-%d %H:%M"), "text": n.text} for n in mine]
    return render_text("menu/notices", bound=True, notices=rows)


# The menu's CLICK keys (templates/menu.yaml): the commands, and what only the menu offers.
MENU_ACTIONS: dict[str, Callable[[Session, Inbound, datetime], str]] = {
    "report": report_prompt, "notices": my_notices, **ACTIONS,
}


def is_menu_click(msg: Inbound) -> bool:
    """Pure check: a tap on a click button of the menu."""
    return msg.msg_type == "event" and msg.event == "click"


def menu_click(session: Session, msg: Inbound, now: datetime) -> str:
    """Run the command a menu key names; a key the menu no longer has gets the help."""
    return MENU_ACTIONS.get(msg.event_key or "", help_text)(session, msg, now)
