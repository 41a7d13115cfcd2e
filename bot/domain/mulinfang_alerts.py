"""睦邻坊 and cases: a building's group is told of the new cases the community chose (mulinfang.yaml),
and a member's on-site note, confirmation ("已处理 …") or photo is added to the case.

A group's confirmation is an event on the case (kind group_note / group_fixed), never the resident's
satisfaction and never a status change: the department still resolves the case, the resident still rates it.
Functions flush, never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.constants import MemberStatus, Purpose
from bot.domain import message_facts
from bot.domain.mulinfang import contact_line
from bot.domain.routing import load_rules
from bot.errors import RoutingError
from bot.messaging import outbox
from bot.messaging.texts import label, render_text
from bot.storage.models import Case, CaseEvent, MulinfangMember, Outbox

SETTINGS_PATH = Path(__file__).with_name("mulinfang.yaml")
NEIGHBOUR_LEAK = "leak_neighbour"
ALERT_KEY = "mulinfang-alert"


@dataclass(frozen=True)
class AlertSettings:
    """The kinds of new cases groups hear of (street default, per community) and the photo window."""

    default: tuple[str, ...]
    communities: dict[str, tuple[str, ...]]
    photo_window: timedelta

    def kinds_for(self, community: str | None) -> tuple[str, ...]:
        """The kinds a community chose, else the default."""
        return self.communities.get(community or "", self.default)


def _kinds(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str) and k.strip() for k in value):
        raise RoutingError(f"{SETTINGS_PATH.name}: {where} must be a list of kinds, e.g. [clutter, leak_neighbour]")
    return tuple(k.strip() for k in value)


@lru_cache(maxsize=2)
def load_settings(path: Path = SETTINGS_PATH) -> AlertSettings:
    """The checked settings file; RoutingError (one start-up line) when it cannot work."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RoutingError(f"{path.name}: cannot be read ({exc})") from None
    communities = data.get("communities") or {}
    if not isinstance(communities, dict):
        raise RoutingError(f"{path.name}: communities must map a community's name to its kinds")
    minutes = data.get("photo_after_alert_minutes", 120)
    if not isinstance(minutes, int) or minutes < 0:
        raise RoutingError(f"{path.name}: photo_after_alert_minutes must be a whole number of minutes")
    return AlertSettings(_kinds(data.get("default", []), "default"),
                         {str(name): _kinds(kinds, str(name)) for name, kinds in communities.items()},
                         timedelta(minutes=minutes))


def kind_of(case: Case) -> tuple[str, ...]:
    """The kinds a case is: its intent, and leak_neighbour for a leak that names a neighbour."""
    kinds = [case.intent]
    if case.intent == "leak" and any(word in case.text for word in load_rules().neighbour_words):
        kinds.append(NEIGHBOUR_LEAK)
    return tuple(kinds)


def active_members(session: Session, building_id: int | None, openid: str | None = None) -> list[MulinfangMember]:
    """The building's active group members (none known from the message's facts of `openid`: no query)."""
    if building_id is None:
        return []
    if openid is not None and message_facts.none(session, openid, "group_members", building_id=building_id):
        return []
    return list(session.scalars(select(MulinfangMember).where(
        MulinfangMember.building_id == building_id, MulinfangMember.status == MemberStatus.ACTIVE)
        .order_by(MulinfangMember.id)))


def alert_group(session: Session, case: Case, now: datetime) -> int:
    """Tell the case's building's group of a new case of a kind its community chose; returns sends queued."""
    members = active_members(session, case.building_id, case.openid)
    if not members:
        return 0
    chosen = load_settings().kinds_for(case.community.name if case.community else None)
    if not set(kind_of(case)) & set(chosen):
        return 0
    # the building and unit only: the group goes to look, it need not know which flat reported
    where = render_text("intake/place", compound=case.compound.name if case.compound else "",
                        building=case.building.name if case.building else "", unit=case.unit or "", room="")
    text = render_text("mulinfang/case_alert", case=case, intent=label("intent", case.intent), place=where)
    sent = 0
    for member in members:
        if member.openid == case.openid:
            continue  # the member reported it (or for a neighbour): the case reply told them
        sent += outbox.enqueue(session, key=f"{ALERT_KEY}:{case.id}:{member.openid}", openid=member.openid,
                               purpose=Purpose.CASE_STATUS, text=text, now=now, case_id=case.id)
    return sent


def contact_note(session: Session, case: Case) -> str:
    """For the reply to a new case of a kind the group hears of (clutter, a neighbour's leak): the group's
    contact, after a blank line ("" otherwise)."""
    chosen = load_settings().kinds_for(case.community.name if case.community else None)
    if not set(kind_of(case)) & set(chosen):
        return ""
    if message_facts.none(session, case.openid, "group_members", building_id=case.building_id):
        return ""
    line = contact_line(session, case.building_id, case.openid)
    return f"\n\n{line}" if line else ""


def memberships(session: Session, openid: str) -> list[MulinfangMember]:
    """The groups a resident is an active member of."""
    return list(session.scalars(select(MulinfangMember).where(
        MulinfangMember.openid == openid, MulinfangMember.status == MemberStatus.ACTIVE)
        .order_by(MulinfangMember.id)))


def member_for(session: Session, openid: str, case: Case) -> MulinfangMember | None:
    """The resident's membership of the case's building's group, if any."""
    return next((m for m in memberships(session, openid) if m.building_id == case.building_id), None)


def last_alerted(session: Session, openid: str, now: datetime) -> Case | None:
    """The newest case of the member's buildings they were told of within the photo window (None for a
    non-member: one indexed look-up, so any resident's photo costs little)."""
    buildings = [m.building_id for m in memberships(session, openid)]
    if not buildings:
        return None
    since = now - load_settings().photo_window
    recent = session.scalars(select(Case).where(Case.building_id.in_(buildings), Case.created_at >= since)
                             .order_by(Case.id.desc()).limit(20)).all()
    for case in recent:
        told = session.scalar(select(Outbox.id).where(Outbox.key == f"{ALERT_KEY}:{case.id}:{openid}"))
        if told is not None:
            return case
    return None


def add_note(session: Session, case: Case, member: MulinfangMember, *, fixed: bool, now: datetime,
             note: str | None = None, media: dict[str, Any] | None = None) -> CaseEvent:
    """A member's on-site note, confirmation or photo on the case (an event; the case's status is unchanged)."""
    kind = "group_fixed" if fixed else ("group_photo" if media else "group_note")
    event = CaseEvent(case_id=case.id, kind=kind, actor=render_text("mulinfang/actor", m=member), note=note,
                      data={"member": member.name, "role": member.role, **(media or {})}, created_at=now)
    session.add(event)
    session.flush()
    return event
