"""Photos, voice, video and locations: attached to the resident's latest open case, or kept for it.

A voice message without recognised words and no open case opens a case for a person (item 9 of issue 12)."""
from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import case_queries, residents
from bot.domain.cases import add_event, create_case, notify_department
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, render_text
from bot.storage.models import Compound
from handlers.conversation import memory
from handlers.conversation.context import Context
from handlers.conversation.intake import attach_media, media_of
from handlers.conversation.states import ASKING_ADDRESS, DialogueState, State
from handlers.intents import FALLBACK

NEAR_METRES = 1500.0
KINDS = {"image": "photo", "voice": "voice", "video": "video", "shortvideo": "video"}


def media(ctx: Context, msg: Inbound) -> str | None:
    """Attach to the latest open case; while the address is asked, keep it for the coming case."""
    state = memory.load(ctx, msg.openid)
    pending = state.data.get("pending")
    if state.name in ASKING_ADDRESS and pending is not None:
        pending["media"] = [*pending.get("media", []), *media_of(msg)]
        memory.save(ctx, msg.openid, state)
        return render_text("intake/media_kept", kind=KINDS.get(msg.msg_type, "photo"), count=len(pending["media"]))
    case = case_queries.latest_open(ctx.session, msg.openid)
    if case is None and msg.msg_type == "voice":  # a resident who cannot type: a person listens
        return _voice_case(ctx, msg)
    if case is None:  # sent before the words: kept for the report that follows (30 minutes, as the dialogue)
        keep = {k: v for k, v in state.data.items() if k in ("hint", "hint_sure")}
        kept = [*state.data.get("media", []), *media_of(msg)]
        memory.save(ctx, msg.openid, State(DialogueState.IDLE, {**keep, "media": kept}))
        return render_text("media_ack", kind=render_text("intake/media_kind", kind=KINDS.get(msg.msg_type)),
                           count=len(kept))
    attach_media(ctx.session, case, media_of(msg), ctx.now)
    added = 1  # counted while the dialogue is on this case: three photos are not one reply three times
    if state.name == DialogueState.DETAILS and state.data.get("case_id") == case.id:
        added = int(state.data.get("media_added") or 0) + 1
        memory.save(ctx, msg.openid, State(state.name, {**state.data, "media_added": added}))
    return render_text("intake/media_added", case=case, kind=KINDS.get(msg.msg_type, "photo"), count=added)


def _voice_case(ctx: Context, msg: Inbound) -> str:
    """A voice message WeChat could not turn into words, with no open case: a case for a person (人工), the
    voice on it, the staff told; the resident is told a person will listen, never asked to type instead."""
    resident = residents.get_or_create(ctx.session, msg.openid, ctx.now)
    case = create_case(ctx.session, openid=msg.openid, text=render_text("intake/voice_case_text"), intent=FALLBACK,
                       priority=ctx.classifier.spec(FALLBACK).priority, also=(), resident=resident, now=ctx.now)
    attach_media(ctx.session, case, media_of(msg), ctx.now)
    case.handoff = True
    event = add_event(ctx.session, case, "handoff", actor="resident", now=ctx.now)
    notify_department(ctx.session, case, ctx.now, kind=f"handoff-{event.id}")
    memory.save(ctx, msg.openid, State(DialogueState.HANDOFF, {"case_id": case.id}))
    return render_text("intake/voice_case", case=case, department=label("department", case.department),
                       bound=resident.building_id is not None)


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371000 * math.asin(math.sqrt(a))


def nearest_compound(session: Session, lat: float, lon: float) -> Compound | None:
    """The closest compound with coordinates within NEAR_METRES."""
    best: tuple[float, Compound] | None = None
    for compound in session.scalars(select(Compound).where(Compound.latitude.is_not(None))).all():
        distance = _metres(lat, lon, compound.latitude or 0.0, compound.longitude or 0.0)
        if distance <= NEAR_METRES and (best is None or distance < best[0]):
            best = (distance, compound)
    return best[1] if best else None


def location(ctx: Context, msg: Inbound) -> str | None:
    """A location helps pick the compound; for a resident with an address it joins the open case."""
    try:
        lat, lon = float(msg.raw.get("Location_X") or ""), float(msg.raw.get("Location_Y") or "")
    except (TypeError, ValueError):
        return render_text("media_ack", kind=render_text("intake/media_kind", kind="location"))
    resident = residents.get_or_create(ctx.session, msg.openid, ctx.now)
    state = memory.load(ctx, msg.openid)
    case = case_queries.latest_open(ctx.session, msg.openid)
    if resident.building_id is not None and state.name not in ASKING_ADDRESS:
        if case is None:
            return render_text("media_ack", kind=render_text("intake/media_kind", kind="location"))
        add_event(ctx.session, case, "location", actor="resident", now=ctx.now,
                  data={"latitude": lat, "longitude": lon, "label": msg.raw.get("Label")})
        return render_text("intake/media_added", case=case, kind="location")
    compound = nearest_compound(ctx.session, lat, lon)
    if compound is None:
        return render_text("intake/address_again", status="far", compound="")
    data = {k: v for k, v in state.data.items() if k != "candidate"}
    memory.save(ctx, msg.openid, State(DialogueState.AWAIT_ADDRESS, {**data, "hint": compound.id, "hint_sure": False}))
    return render_text("intake/location_hint", compound=compound.name)
