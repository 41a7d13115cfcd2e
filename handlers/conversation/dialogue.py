"""Dialogue as data: named states, each step returns the next state; state lives in Redis (30 min).

A case is created in the database as soon as Mulin has what it needs, so an expired
dialogue never loses one; only the open question is forgotten.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable

from sqlalchemy.orm import Session

from flask import current_app

from bot.domain import residents
from bot.storage.db import on_commit
from bot.messaging.inbound import Inbound
from bot.storage.models import Compound, Resident
from bot.messaging.texts import render_text
from handlers.understanding.address import AddressMatch, match_address
from handlers.understanding.words import is_no, is_yes
from bot.services import services

log = logging.getLogger(__name__)
TTL_SECONDS = 30 * 60
IDLE = "idle"


@dataclass
class State:
    """Where a resident's conversation stands, with what it has gathered so far."""

    name: str = IDLE
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """A step's answer: the reply and the state to go to."""

    reply: str | None
    state: str = IDLE
    data: dict[str, Any] = field(default_factory=dict)


StepFn = Callable[[Session, Inbound, datetime, dict[str, Any]], Step]


def _key(openid: str) -> str:
    if not openid:
        raise ValueError("a dialogue needs the resident's openid")
    return f"mulin:dialogue:{openid}"


def load(openid: str) -> State:
    """The resident's current state (idle when none or expired)."""
    raw = services(current_app).redis.get(_key(openid))
    if not raw:
        return State()
    value = json.loads(raw)
    return State(value.get("name", IDLE), value.get("data", {}))


def save(session: Session, openid: str, state: State) -> None:
    """Store the state for 30 minutes once the message's transaction commits (idle: removed)."""
    store, key = services(current_app).redis, _key(openid)
    if state.name == IDLE and not state.data:
        on_commit(session, lambda: store.delete(key))
        return
    value = json.dumps({"name": state.name, "data": state.data})
    on_commit(session, lambda: store.set(key, value, ex=TTL_SECONDS))


@lru_cache(maxsize=1)
def states() -> dict[str, StepFn]:
    """The state table: name -> step (built on first use; intake imports this module)."""
    from handlers.conversation import intake

    return {IDLE: intake.report, "await_address": await_address, "confirm_address": confirm_address,
            "details": intake.detail, "handoff": intake.to_person}


def step(session: Session, msg: Inbound, now: datetime) -> str | None:
    """Run the step of the resident's current state and remember the next state."""
    current = load(msg.openid)
    fn = states().get(current.name)
    if fn is None:
        log.warning("dialogue: unknown state %r, starting over", current.name)
        fn, current = states()[IDLE], State()
    result = fn(session, msg, now, current.data)
    save(session, msg.openid, State(result.state, result.data))
    return result.reply


def _hint(session: Session, data: dict[str, Any]) -> Compound | None:
    return session.get(Compound, data["hint"]) if data.get("hint") else None


def await_address(session: Session, msg: Inbound, now: datetime, data: dict[str, Any]) -> Step:
    """The resident typed (what should be) an address."""
    found = match_address(session, msg.text or "", _hint(session, data), bool(data.get("hint_sure")))
    if found.status in ("unknown", "no_building") and not data.get("pending"):
        from handlers.conversation.intake import report  # no address and nothing waiting for one: a new report

        return report(session, msg, now, data)
    if found.status == "ok":
        return bind(session, msg.openid, found, now, data)
    if found.status == "confirm":
        candidate = {"compound": found.compound.id, "building": found.building.id,
                     "unit": found.unit, "room": found.room}
        return Step(render_text("intake/address_confirm", address=_describe(found)), "confirm_address",
                    {**data, "candidate": candidate})
    return Step(render_text("intake/address_again", status=found.status,
                            compound=found.compound.name if found.compound else ""), "await_address", data)


def confirm_address(session: Session, msg: Inbound, now: datetime, data: dict[str, Any]) -> Step:
    """The resident answered whether the fuzzy match is right (or typed another address)."""
    text = msg.text or ""
    candidate = data.get("candidate") or {}
    rest = {k: v for k, v in data.items() if k != "candidate"}
    if is_yes(text) and candidate:
        compound = session.get(Compound, candidate["compound"])
        building = next((b for b in compound.buildings if b.id == candidate["building"]), None)
        found = AddressMatch("ok", compound, building, candidate.get("unit"), candidate.get("room"), 1.0)
        return bind(session, msg.openid, found, now, rest)
    if is_no(text):
        return Step(render_text("intake/address_again", status="rejected", compound=""), "await_address", rest)
    return await_address(session, msg, now, rest)


def bind(session: Session, openid: str, found: AddressMatch, now: datetime, data: dict[str, Any]) -> Step:
    """Store the address on the resident, then open the report that was waiting for it."""
    resident: Resident = residents.get_or_create(session, openid, now)
    resident.compound_id, resident.building_id = found.compound.id, found.building.id
    resident.unit, resident.room = found.unit, found.room
    session.flush()
    session.refresh(resident)
    log.info("resident %s bound an address (compound id %s)", resident.id, found.compound.id)
    saved = render_text("intake/address_saved", address=_describe(found), pending=bool(data.get("pending")))
    if not data.get("pending"):
        return Step(saved)
    from handlers.conversation.intake import open_report

    opened = open_report(session, resident, data["pending"], now)
    return Step(saved + "\n\n" + (opened.reply or ""), opened.state, opened.data)


def _describe(found: AddressMatch) -> str:
    return render_text("intake/place", compound=found.compound.name, building=found.building.name,
                       unit=found.unit or "", room=found.room or "")
