"""Commands that work in any state (取消, 人工, 修改地址, 我的工单, 帮助) and the welcome."""
from __future__ import annotations

from sqlalchemy import select

from bot.clock import fmt_local
from bot.constants import OPEN_STATUSES, CaseStatus, NoticeStatus
from bot.domain import case_queries, notices, residents
from bot.domain.cases import add_event, create_case, notify_department, transition
from bot.messaging.inbound import Inbound
from bot.messaging.qrcodes import building_of_scene
from bot.messaging.texts import label, render_text
from bot.storage.models import Building, Case, Compound, Notice, Resident
from handlers.conversation import address_steps, binding, memory
from handlers.conversation.actions import Action
from handlers.conversation.context import Context
from handlers.conversation.states import ASKING_ADDRESS, DialogueState, State
from handlers.intents import FALLBACK
from handlers.understanding.address import AddressMatch
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
        said = msg.text or render_text("menu/handoff_case")  # the menu's button says nothing itself
        pending = state.data.get("pending") or {"text": said, "intent": FALLBACK,
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
    """Subscribe or scan: welcome; a building's QR code binds the resident, a compound's suggests the compound."""
    resident = residents.get_or_create(ctx.session, msg.openid, ctx.now)
    text = render_text("welcome", street=ctx.street_name)
    building_id = building_of_scene(msg.event_key)
    building = ctx.session.get(Building, building_id) if building_id is not None else None
    if building is not None:
        bound = _scanned_building(ctx, msg.openid, resident, building)
        return bound if msg.event == "scan" else text + "\n\n" + bound
    compound = None
    if msg.event_key:
        compound = ctx.session.scalars(select(Compound).where(Compound.qr_scene == msg.event_key)).one_or_none()
    if compound is not None and resident.building_id is None:
        state = memory.load(ctx, msg.openid)
        name = state.name if state.name in ASKING_ADDRESS else DialogueState.AWAIT_ADDRESS
        memory.save(ctx, msg.openid, State(name, {**state.data, "hint": compound.id, "hint_sure": True}))
        text += "\n\n" + render_text("intake/welcome_compound", compound=compound.name)
    return text


def _scanned_building(ctx: Context, openid: str, resident: Resident, building: Building) -> str:
    """A unit-door QR code: bind an unbound resident to the building (opening a report that waited for it)."""
    scanned = render_text("intake/place", compound=building.compound.name, building=building.name, unit="", room="")
    if resident.building_id == building.id:
        return render_text("intake/building_known", address=scanned)
    if resident.building_id is not None:  # a neighbour's door, or a move: never overwrite silently
        return render_text("intake/building_other", scanned=scanned, current=binding.describe_resident(resident))
    state = memory.load(ctx, openid)
    waiting = state.data if state.name in ASKING_ADDRESS else {}
    found = AddressMatch("ok", building.compound, building, None, None, 1.0)
    step = address_steps.bind(ctx, openid, found,
                              {k: v for k, v in waiting.items() if k not in ("hint", "hint_sure", "candidate")})
    memory.save(ctx, openid, State(step.state, step.data))
    return step.reply or ""


ACTIONS: dict[str, Action] = {
    "cancel": cancel, "handoff": handoff, "address": change_address, "my_cases": my_cases, "help": help_text,
}


def report_prompt(ctx: Context, msg: Inbound) -> str:
    """The menu's 我要报事: how to report (the next message is the report)."""
    return render_text("menu/report")


def my_notices(ctx: Context, msg: Inbound) -> str:
    """The menu's 通知公告: the coming cleanups of the resident's building."""
    resident = residents.get_or_create(ctx.session, msg.openid, ctx.now)
    if resident.building_id is None:
        return render_text("menu/notices", bound=False, notices=[])
    coming = ctx.session.scalars(select(Notice).where(Notice.status == NoticeStatus.ACTIVE,
                                                      Notice.cleanup_at > ctx.now).order_by(Notice.cleanup_at))
    mine = [n for n in coming
            if ctx.session.scalar(notices.recipients_of(n.target).where(Resident.openid == msg.openid).limit(1))]
    rows = [{"when": fmt_local(n.cleanup_at, "%m-%d %H:%M"), "text": n.text} for n in mine]
    return render_text("menu/notices", bound=True, notices=rows)


# The menu's CLICK keys (templates/menu.yaml): the commands, and what only the menu offers.
MENU_ACTIONS: dict[str, Action] = {"report": report_prompt, "notices": my_notices, **ACTIONS}


def is_menu_click(msg: Inbound) -> bool:
    """Pure check: a tap on a click button of the menu."""
    return msg.msg_type == "event" and msg.event == "click"


def menu_click(ctx: Context, msg: Inbound) -> str | None:
    """Run the command a menu key names; a key the menu no longer has gets the help."""
    return MENU_ACTIONS.get(msg.event_key or "", help_text)(ctx, msg)
