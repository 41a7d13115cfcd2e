"""Address completion on an open case: "2单元1501" after a report that named the building only, "天宁寺北里2号楼"
after an emergency opened before the address, "不对，是7号楼" as a correction. The case's place (and the
resident's, when it is their home) is completed and the reply says so, instead of adding the words as a detail.
"""
from __future__ import annotations

from bot.domain import case_queries, residents
from bot.domain.case_notify import notify_department
from bot.domain.cases import add_event
from bot.messaging.texts import render_text
from bot.storage.models import Building, Case, Compound
from handlers.conversation.context import Context
from handlers.understanding.address import building_of, is_bare_address, is_bungalow, parts_in_message
from handlers.understanding.words import is_correction, is_public_place

MAX_CHARS = 40  # a longer message is a story that may mention a place, not an address answer


def fill(ctx: Context, openid: str, text: str, case: Case) -> str | None:
    """Complete or correct the case's place from `text`; the reply, or None when the text names no new place."""
    if len(text) > MAX_CHARS:
        return None
    parts = parts_in_message(ctx.session, text, case.compound is not None and is_bungalow(case.compound))
    if not parts.any:
        if parts.compound is None or case.compound is not None:
            return None
        placed = _place_cases(ctx, case, parts.compound, None, None, None)  # "在天宁寺北里": the building next,
        return render_text("intake/address_completed", cases=placed, address=parts.compound.name,
                           ask_building=not is_public_place(case.text))  # unless it is about a shared place
    compound: Compound | None = parts.compound or case.compound
    if compound is None or (parts.compound is not None and case.compound is not None
                            and parts.compound.id != case.compound.id and not parts.building):
        return None
    building: Building | None
    if parts.building:
        building = building_of(ctx.session, compound, parts.building)
        if building is None:
            return None  # not a building of the compound: the words stay a detail
    else:
        building = case.building if compound is case.compound else None
        if building is None or (not parts.unit and not case.unit) or is_bungalow(compound):
            return None  # a unit without its building, a room without its unit
    same_building = case.building is not None and building.id == case.building.id
    complete = case.building is not None and case.unit and case.room
    if (complete or not same_building and case.building is not None) \
            and not (is_correction(text) or is_bare_address(text)):
        return None  # "楼下3号楼也漏" names another building, it does not move the case
    unit = parts.unit or (case.unit if same_building else None)
    room = parts.room or (case.room if same_building else None)
    if same_building and (unit, room) == (case.unit, case.room):
        return None  # nothing new
    home = case.building_id
    placed = _place_cases(ctx, case, compound, building, unit, room)
    if not is_public_place(text):
        _place_resident(ctx, openid, home, compound, building, unit, room)
    address = render_text("intake/place", compound=compound.name, building=building.name, unit=unit or "",
                          room=room or "")
    return render_text("intake/address_completed", cases=placed, address=address, ask_building=False)


def _place_cases(ctx: Context, case: Case, compound: Compound, building: Building | None, unit: str | None,
                 room: str | None) -> list[Case]:
    """The case placed, and the other cases its message opened that were at its place (a second problem in the
    same report: an emergency's leak must not stay without an address); the cases placed, the case first."""
    def place_of(c: Case) -> tuple[object, ...]:
        return c.compound_id, c.building_id, c.unit, c.room

    others = [c for c in case_queries.opened_with(ctx.session, case) if place_of(c) == place_of(case)]
    for placed in (case, *others):
        _place_case(ctx, placed, compound, building, unit, room)
    return [case, *others]


def _place_case(ctx: Context, case: Case, compound: Compound, building: Building | None, unit: str | None,
                room: str | None) -> None:
    """The case's place set; the department told again when the case had no place before (a person can go now)."""
    had_place = case.compound_id is not None
    before = {"compound": case.compound_id, "building": case.building_id, "unit": case.unit, "room": case.room}
    building_id = building.id if building is not None else None
    case.compound_id, case.community_id, case.building_id = compound.id, compound.community_id, building_id
    case.unit, case.room = unit, room
    add_event(ctx.session, case, "address", actor="resident", now=ctx.now,
              data={"from": before, "to": {"compound": compound.id, "building": building_id, "unit": unit,
                                           "room": room}})
    ctx.session.flush()
    ctx.session.refresh(case)
    if not had_place:
        notify_department(ctx.session, case, ctx.now, kind="place")


def _place_resident(ctx: Context, openid: str, case_building: int | None, compound: Compound, building: Building,
                    unit: str | None, room: str | None) -> None:
    """The resident's address completed too when the case was at their home (or they had none)."""
    resident = residents.get_or_create(ctx.session, openid, ctx.now)
    if resident.building_id not in (None, case_building, building.id):
        return  # the case is somewhere else than home (a neighbour's flat, another building)
    resident.compound_id, resident.building_id, resident.unit, resident.room = compound.id, building.id, unit, room
    ctx.session.flush()
