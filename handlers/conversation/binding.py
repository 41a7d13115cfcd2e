"""Binding an address to a resident, and describing it back to them."""
from __future__ import annotations

import logging

from bot.domain import residents
from bot.messaging.texts import render_text
from bot.storage.models import Resident
from handlers.conversation.context import Context
from handlers.understanding.address import AddressMatch

log = logging.getLogger(__name__)


def bind_resident(ctx: Context, openid: str, found: AddressMatch) -> Resident:
    """Store a matched address (compound, building, unit, room) on the resident."""
    assert found.compound is not None and found.building is not None  # an "ok" match has both
    resident: Resident = residents.get_or_create(ctx.session, openid, ctx.now)
    resident.compound_id, resident.building_id = found.compound.id, found.building.id
    resident.unit, resident.room = found.unit, found.room
    ctx.session.flush()
    ctx.session.refresh(resident)
    log.info("resident %s bound an address (compound id %s)", resident.id, found.compound.id)
    return resident


def describe_resident(resident: Resident) -> str:
    """The resident's stored address as they read it back."""
    return render_text("intake/place", compound=resident.compound.name if resident.compound else "",
                       building=resident.building.name if resident.building else "",
                       unit=resident.unit or "", room=resident.room or "")


def describe(found: AddressMatch) -> str:
    """The address as the resident reads it back."""
    return render_text("intake/place", compound=found.compound.name if found.compound else "",
                       building=found.building.name if found.building else "",
                       unit=found.unit or "", room=found.room or "")
