"""Residents: who follows the account, and when they last wrote (the 48-hour window)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.db import cache, insert_ignoring
from bot.models import Resident

SERVICE_WINDOW = timedelta(hours=48)


def get_or_create(session: Session, openid: str, now: datetime) -> Resident:
    """The resident with this openid, created on first contact (looked up once per transaction)."""
    known: dict[str, Resident] = cache(session, "residents")
    resident = known.get(openid)
    if resident is not None and resident in session:
        return resident
    # the address comes along (one JOIN instead of two lazy loads when a case is opened)
    query = select(Resident).where(Resident.openid == openid).options(
        joinedload(Resident.building), joinedload(Resident.compound))
    resident = session.scalars(query).one_or_none()
    if resident is None:  # two first messages at once: one insert wins, both read the row
        session.execute(insert_ignoring(session, Resident.__table__, "openid"),
                        {"openid": openid, "created_at": now, "subscribed": True})
        resident = session.scalars(query).one()
    known[openid] = resident
    return resident


def touch(session: Session, openid: str, now: datetime, *, interactive: bool,
          subscribed: bool | None = None) -> Resident:
    """Record contact; interactive messages open the 48-hour customer-service window."""
    resident = get_or_create(session, openid, now)
    if interactive:
        resident.last_inbound_at = now
    if subscribed is not None:
        resident.subscribed = subscribed
    return resident


def in_service_window(resident: Resident | None, now: datetime) -> bool:
    """Whether a customer-service message may be sent now."""
    return bool(resident and resident.last_inbound_at and now - resident.last_inbound_at < SERVICE_WINDOW)
