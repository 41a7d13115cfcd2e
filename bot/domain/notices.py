"""Hallway-cleanup notices: create, change before sending, cancel, and count deliveries.

A notice targets a compound (optionally some of its buildings) or a whole community.
The scheduler (scheduler/notice_jobs.py) fans it out into one outbox row per resident
and offset; this module only reads those rows to report progress.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVarTuple

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from bot.config import DEFAULTS
from bot.constants import DeliveryState, MemberStatus, NoticeStatus, OutboxStatus, Purpose
from bot.errors import InvalidNotice, NotFound, NoticeLocked
from bot.messaging import reach, receipts
from bot.messaging.gateway import Gateway
from bot.storage.models import Building, Community, Compound, MulinfangMember, Notice, Outbox, Resident

Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class NoticeProgress:
    """Where a notice's deliveries stand, each planned message in one state; failures are (Chinese reason,
    count), most frequent first.

    pending = scheduled (its send time not come) + waiting in the outbox; sent = queued at WeChat (no
    receipt yet) + delivered; failed counts refusals, the unreachable and failure receipts alike.
    """

    targeted: int
    pending: int
    sent: int
    failed: int
    cancelled: int
    failures: list[tuple[str, int]] = field(default_factory=list)
    scheduled: int = 0
    queued: int = 0
    delivered: int = 0
    uncertain: int = 0


def default_offsets() -> list[int]:
    """Minutes before the cleanup at which a notice is sent when the caller gives none (the shipped default;
    the CLI and the console pass the app's NOTICE_OFFSETS_MINUTES)."""
    return sorted({int(m) for m in DEFAULTS["NOTICE_OFFSETS_MINUTES"]}, reverse=True)


def resolve_target(session: Session, compound: str | None, community: str | None,
                   buildings: list[str] | None) -> dict[str, Any]:
    """A checked target (community, compound, buildings) for anything sent like a notice (consultations too)."""
    if bool(compound) == bool(community):
        raise InvalidNotice("notice_target")
    if community:
        if buildings:
            raise InvalidNotice("notice_buildings_need_compound")
        if session.scalars(select(Community).where(Community.name == community)).one_or_none() is None:
            raise NotFound("community_not_found", name=community)
        return {"community": community, "compound": None, "buildings": None}
    found = session.scalars(select(Compound).where(Compound.name == compound)).one_or_none()
    if found is None:
        raise NotFound("compound_not_found", name=compound)
    names = sorted({b.strip() for b in buildings or [] if b.strip()}, key=lambda n: (len(n), n))
    known = set(session.scalars(select(Building.name).where(Building.compound_id == found.id)))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise NotFound("buildings_not_found", compound=compound, buildings="、".join(unknown))
    return {"community": found.community.name, "compound": compound, "buildings": names or None}


def recipients_of(target: dict[str, Any]) -> Select[str]:
    """A select of the openids of subscribed residents bound to a target's buildings."""
    return _in_target(select(Resident.openid).where(Resident.subscribed.is_(True)), target)


def _in_target(query: Select[*Ts], target: dict[str, Any]) -> Select[*Ts]:
    """A select of residents narrowed to those bound to a target's buildings."""
    if target.get("compound") is None:
        compounds = select(Compound.id).join(Community).where(Community.name == target["community"])
        return query.where(Resident.compound_id.in_(compounds))
    compound_id = select(Compound.id).where(Compound.name == target["compound"]).scalar_subquery()
    if target.get("buildings"):
        ids = select(Building.id).where(Building.compound_id == compound_id, Building.name.in_(target["buildings"]))
        return query.where(Resident.building_id.in_(ids))
    return query.where(Resident.compound_id == compound_id)


def groups_of(target: dict[str, Any]) -> Select[str, int]:
    """(openid, building id) of the active 睦邻坊 members of a target's buildings: they hear of a notice first."""
    query = select(MulinfangMember.openid, MulinfangMember.building_id).join(Building).join(Compound).where(
        MulinfangMember.status == MemberStatus.ACTIVE)
    if target.get("compound") is None:
        query = query.join(Community).where(Community.name == target["community"])
    else:
        query = query.where(Compound.name == target["compound"])
        if target.get("buildings"):
            query = query.where(Building.name.in_(target["buildings"]))
    return query.order_by(MulinfangMember.id)


def residents_first_send(notice: Notice, now: datetime) -> datetime:
    """When the residents get the notice's first message (at once when its earliest offset has passed)."""
    return max(now, notice.cleanup_at - timedelta(minutes=max(int(m) for m in notice.offsets)))


def groups_due(notice: Notice, now: datetime, lead: timedelta) -> bool:
    """Whether the groups are told now: `lead` before the residents' first send, and before the cleanup."""
    return notice.status == NoticeStatus.ACTIVE and now < notice.cleanup_at and (
        now >= residents_first_send(notice, now) - lead or bool(notice.fanned_out))
def first_send_at(notice: Notice, now: datetime) -> datetime:
    """When the notice's next offset goes out (now, for one already due): what a forecast is as of."""
    due = [notice.cleanup_at - timedelta(minutes=int(m)) for m in notice.offsets if m not in notice.fanned_out]
    return max(now, min(due)) if due else now


def reach_forecast(session: Session, notice: Notice, gateway: Gateway, templates: dict[str, str],
                   now: datetime) -> reach.Forecast:
    """How many of the target's residents (also those who unsubscribed) each channel will reach at the next
    send, and how many cannot be reached and why: the outbox's own channel choice (bot.messaging.reach)."""
    residents = _in_target(select(Resident.openid, Resident.last_inbound_at, Resident.subscribed), notice.target)
    return reach.forecast(session, gateway, templates, Purpose.NOTICE, residents, first_send_at(notice, now))


def create_notice(session: Session, *, compound: str | None, community: str | None,
                  buildings: list[str] | None, cleanup_at: datetime, text: str, actor: str,
                  now: datetime, offsets: list[int] | None = None) -> Notice:
    """Store a new notice (naive-UTC cleanup_at); the scheduler sends it at its offsets."""
    if not text.strip():
        raise InvalidNotice("notice_text_empty")
    if cleanup_at <= now:
        raise InvalidNotice("notice_time_passed")
    notice = Notice(
        text=text.strip(), cleanup_at=cleanup_at, target=resolve_target(session, compound, community, buildings),
        offsets=sorted({int(m) for m in offsets}, reverse=True) if offsets else default_offsets(),
        status=NoticeStatus.ACTIVE, created_by=actor, created_at=now, fanned_out=[],
    )
    session.add(notice)
    session.flush()
    return notice


def get_notice(session: Session, notice_id: int) -> Notice:
    """The notice with this id, or NotFound."""
    notice = session.get(Notice, notice_id, populate_existing=True)
    if notice is None:
        raise NotFound("notice_not_found", id=notice_id)
    return notice


def update_notice(session: Session, notice_id: int, *, text: str | None = None,
                  cleanup_at: datetime | None = None, buildings: list[str] | None = None,
                  actor: str, now: datetime) -> Notice:
    """Change a notice that has not started sending; NoticeLocked once it has."""
    notice = get_notice(session, notice_id)
    if notice.status != NoticeStatus.ACTIVE or notice.fanned_out:
        raise NoticeLocked("notice_locked", id=notice_id)
    if text is not None:
        if not text.strip():
            raise InvalidNotice("notice_text_empty")
        notice.text = text.strip()
    if cleanup_at is not None:
        if cleanup_at <= now:
            raise InvalidNotice("notice_time_passed")
        notice.cleanup_at = cleanup_at
    if buildings is not None:
        if notice.target.get("compound") is None:
            raise InvalidNotice("notice_buildings_need_compound")
        notice.target = resolve_target(session, notice.target["compound"], None, buildings)
    session.flush()
    return notice


def cancel_notice(session: Session, notice_id: int, *, actor: str, now: datetime) -> Notice:
    """Stop a notice: nothing more is fanned out and pending deliveries are cancelled.

    Rows a running drain has already claimed (at most about one second of sends) still go out.
    """
    notice = get_notice(session, notice_id)
    notice.status = NoticeStatus.CANCELLED
    session.execute(update(Outbox).where(Outbox.notice_id == notice.id, Outbox.status == OutboxStatus.PENDING)
                    .values(status=OutboxStatus.CANCELLED))
    session.flush()
    return notice


def list_notices(session: Session) -> list[Notice]:
    """Every notice, newest first."""
    return list(session.scalars(select(Notice).order_by(Notice.id.desc())))


def notice_progress(session: Session, notice: Notice) -> NoticeProgress:
    """Targeted residents and the state of every planned message (unsent offsets count as scheduled)."""
    targeted = session.scalar(select(func.count()).select_from(recipients_of(notice.target).subquery())) or 0
    rows = session.execute(
        select(Outbox.status, Outbox.channel, Outbox.receipt, Outbox.errcode, Outbox.error, func.count())
        .where(Outbox.notice_id == notice.id)
        .group_by(Outbox.status, Outbox.channel, Outbox.receipt, Outbox.errcode, Outbox.error)).all()
    future = [m for m in notice.offsets if m not in notice.fanned_out] if notice.status == NoticeStatus.ACTIVE else []
    states: Counter[str] = Counter({DeliveryState.SCHEDULED: targeted * len(future)})
    reasons: Counter[str] = Counter()
    for status, channel, receipt, errcode, error, n in rows:
        state = receipts.state_of(status, channel, receipt)
        states[state] += n
        if state == DeliveryState.FAILED:
            reasons[receipts.reason(errcode, error, receipt)] += n
    return NoticeProgress(
        targeted=targeted, pending=states[DeliveryState.SCHEDULED] + states[DeliveryState.PENDING],
        sent=states[DeliveryState.QUEUED] + states[DeliveryState.DELIVERED], failed=states[DeliveryState.FAILED],
        cancelled=states[DeliveryState.CANCELLED], failures=reasons.most_common(),
        scheduled=states[DeliveryState.SCHEDULED], queued=states[DeliveryState.QUEUED],
        delivered=states[DeliveryState.DELIVERED], uncertain=states[DeliveryState.UNCERTAIN],
    )
