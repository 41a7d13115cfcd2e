"""睦邻坊: each building's self-governance group (党员, 老住户, 社工, 志愿者, 楼门长) — add, remove, list members.

Functions flush, never commit (the CLI and, later, the console commit). Adding a member who is
already in the building's group updates their name, role and contact flag in place.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.constants import MemberStatus, MulinfangRole
from bot.domain.directory import building_name
from bot.errors import InvalidMember, NotFound
from bot.messaging.texts import render_text
from bot.storage.models import Building, Compound, MulinfangMember

ROLES: tuple[MulinfangRole, ...] = tuple(MulinfangRole)


def find_building(session: Session, compound: str, building: str) -> Building:
    """The building by compound name and building name ('5', '5号楼'); NotFound otherwise."""
    found = session.scalars(select(Compound).where(Compound.name == compound.strip())).one_or_none()
    if found is None:
        raise NotFound("compound_not_found", name=compound)
    name = building_name(building)
    row = session.scalars(select(Building).where(Building.compound_id == found.id, Building.name == name)).one_or_none()
    if row is None:
        raise NotFound("building_not_found", compound=found.name, building=name)
    return row


def membership(session: Session, building: Building, openid: str) -> MulinfangMember | None:
    """The resident's membership (or application) of the building's 睦邻坊, if any."""
    return session.scalars(select(MulinfangMember).where(MulinfangMember.building_id == building.id,
                                                         MulinfangMember.openid == openid)).one_or_none()


def add_member(session: Session, *, compound: str, building: str, openid: str, name: str, role: str,
               actor: str, now: datetime, contact: bool = False, phone: str | None = None) -> MulinfangMember:
    """Put a resident into the building's group with a role (an update if they are in it already)."""
    if not openid.strip() or not name.strip():
        raise InvalidMember("mulinfang_name_openid")
    if role not in ROLES:
        raise InvalidMember("mulinfang_role_unknown", role=role, roles="、".join(ROLES))
    place = find_building(session, compound, building)
    member = membership(session, place, openid.strip())
    if member is None:
        member = MulinfangMember(building_id=place.id, openid=openid.strip(), created_by=actor, created_at=now)
        session.add(member)
    member.name, member.role, member.contact = name.strip(), MulinfangRole(role), contact
    member.status, member.phone = MemberStatus.ACTIVE, phone or member.phone
    session.flush()
    return member


def remove_member(session: Session, *, compound: str, building: str, openid: str) -> MulinfangMember:
    """Take a resident out of the building's group; NotFound when they are not in it."""
    place = find_building(session, compound, building)
    member = membership(session, place, openid.strip())
    if member is None:
        raise NotFound("mulinfang_member_not_found", compound=compound, building=place.name, openid=openid)
    session.delete(member)
    session.flush()
    return member


def list_members(session: Session, compound: str | None = None,
                 status: MemberStatus | None = MemberStatus.ACTIVE) -> list[MulinfangMember]:
    """Every member (of one compound), by compound, building, role order and name; applications and declined
    ones only when asked for by status (None: all)."""
    query = (select(MulinfangMember).join(Building).join(Compound)
             .options(joinedload(MulinfangMember.building).joinedload(Building.compound)))
    if status is not None:
        query = query.where(MulinfangMember.status == status)
    if compound:
        find = session.scalars(select(Compound.id).where(Compound.name == compound.strip())).one_or_none()
        if find is None:
            raise NotFound("compound_not_found", name=compound)
        query = query.where(Compound.id == find)
    rows = list(session.scalars(query))
    order: dict[str, int] = {role: i for i, role in enumerate(ROLES)}
    return sorted(rows, key=lambda m: (m.building.compound.name, len(m.building.name), m.building.name,
                                       order.get(m.role, len(order)), m.name))


def apply(session: Session, *, openid: str, building: Building, name: str | None, now: datetime,
          role: MulinfangRole = MulinfangRole.VOLUNTEER) -> tuple[MulinfangMember, bool]:
    """A resident's application (by chat) to their building's group: (the row, whether it is new or renewed).
    An active member's or a waiting application is returned unchanged; a declined one is renewed."""
    member = membership(session, building, openid)
    if member is not None and member.status in (MemberStatus.ACTIVE, MemberStatus.APPLIED):
        return member, False
    if member is None:
        member = MulinfangMember(building_id=building.id, openid=openid, contact=False, created_by="resident")
        session.add(member)
    member.name, member.role, member.status, member.created_at = name or "", role, MemberStatus.APPLIED, now
    session.flush()
    session.refresh(member)
    return member, True


INTRO_MAX_CHARS = 500  # kept of an applicant's self-introduction
_NAMED = re.compile(r"(?:我叫|我的名字叫|名字叫|本人叫)([\u4e00-\u9fff]{2,4}?)(?=[，,。；;！!\s]|$)")


def introduce(session: Session, member_id: int, openid: str, text: str) -> MulinfangMember | None:
    """An applicant's words about themselves, kept on their waiting application for the community to read; the name
    they give ("我叫王秀兰") fills an empty name. None when that application is not waiting any more (or not theirs)."""
    member = session.get(MulinfangMember, member_id)
    if member is None or member.openid != openid or member.status != MemberStatus.APPLIED:
        return None
    member.intro = "\n".join(filter(None, (member.intro, text.strip())))[:INTRO_MAX_CHARS]
    member.name = member.name or _given_name(text) or ""
    session.flush()
    return member


def _given_name(text: str) -> str | None:
    """The name someone gives for themselves ("我叫王秀兰，退休老师" → "王秀兰"), else None."""
    named = _NAMED.search(text)
    return named.group(1) if named else None


def applications(session: Session, community_id: int | None = None) -> list[MulinfangMember]:
    """Applications waiting for the community (of one community), oldest first."""
    query = (select(MulinfangMember).join(Building).join(Compound)
             .where(MulinfangMember.status == MemberStatus.APPLIED).order_by(MulinfangMember.created_at)
             .options(joinedload(MulinfangMember.building).joinedload(Building.compound)))
    if community_id is not None:
        query = query.where(Compound.community_id == community_id)
    return list(session.scalars(query))


def decide(session: Session, member: MulinfangMember, *, approve: bool, actor: str, now: datetime,
           name: str | None = None, role: str | None = None) -> MulinfangMember:
    """Approve (with the name and role the community settles on) or decline an application."""
    if member.status != MemberStatus.APPLIED:
        raise InvalidMember("mulinfang_not_applied")
    if approve:
        if role is not None and role not in ROLES:
            raise InvalidMember("mulinfang_role_unknown", role=role, roles="、".join(ROLES))
        if not (name or member.name).strip():
            raise InvalidMember("mulinfang_name_openid")
        member.name, member.role = (name or member.name).strip(), MulinfangRole(role or member.role)
    member.status = MemberStatus.ACTIVE if approve else MemberStatus.REJECTED
    member.created_by = actor
    session.flush()
    return member


def group_contact(session: Session, building_id: int | None) -> MulinfangMember | None:
    """The building's group contact shown to its residents: the first active member marked contact."""
    if building_id is None:
        return None
    return session.scalars(select(MulinfangMember).where(
        MulinfangMember.building_id == building_id, MulinfangMember.status == MemberStatus.ACTIVE,
        MulinfangMember.contact.is_(True)).order_by(MulinfangMember.id).limit(1)).first()


def set_contact(session: Session, member: MulinfangMember, *, contact: bool, phone: str | None) -> MulinfangMember:
    """Mark (or unmark) an active member as the group's contact; the phone shown to residents only when the
    member agreed to it (an empty phone: the name and role only). Marking one unmarks the group's others."""
    if member.status != MemberStatus.ACTIVE:
        raise InvalidMember("mulinfang_not_active")
    if contact:
        for other in session.scalars(select(MulinfangMember).where(
                MulinfangMember.building_id == member.building_id, MulinfangMember.id != member.id)):
            other.contact = False
    member.contact, member.phone = contact, (phone or "").strip() or None
    session.flush()
    return member


def contact_line(session: Session, building_id: int | None, openid: str | None = None) -> str:
    """The building's group contact as one line for its residents ("" when the group has none, or when the
    resident is the contact). The phone only where the member agreed to show it (its phone field)."""
    member = group_contact(session, building_id)
    if member is None or member.openid == openid:
        return ""
    return render_text("mulinfang/contact", m=member, place=render_text("mulinfang/place", building=member.building))
