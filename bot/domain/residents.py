"""Residents: who follows the account, and when they last wrote (the 48-hour window)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from bot.messaging.window import in_window
from bot.storage.db import cache, insert_ignoring
from bot.storage.models import Resident, table_of

_RESIDENTS = table_of(Resident)
_UPDATE = update(_RESIDENTS).where(_RESIDENTS.c.id == bindparam("resident_id"))
# built once (bound parameter); the address comes along: one JOIN instead of two lazy loads for a new case
_BY_OPENID = select(Resident).where(Resident.openid == bindparam("openid")).options(
    joinedload(Resident.building), joinedload(Resident.compound))


def get_or_create(session: Session, openid: str, now: datetime) -> Resident:
    """The resident with this openid, created on first contact (looked up once per transaction)."""
    known: dict[str, Resident] = cache(session, "residents")
    resident = known.get(openid)
    if resident is not None and resident in session:
        return resident
    resident = session.scalars(_BY_OPENID, {"openid": openid}).one_or_none()
    if resident is None:  # two first messages at once: one insert wins, both read the row
        session.execute(insert_ignoring(session, table_of(Resident), "openid"),
                        {"openid": openid, "created_at": now, "subscribed": True})
        resident = session.scalars(_BY_OPENID, {"openid": openid}).one()
    known[openid] = resident
    return resident


def touch(session: Session, openid: str, now: datetime, *, interactive: bool,
          subscribed: bool | None = None) -> Resident:
    """Record contact; interactive messages open the 48-hour customer-service window."""
    resident = get_or_create(session, openid, now)
    values: dict[str, object] = {}
    if interactive:
        values["last_inbound_at"] = now
    if subscribed is not None and subscribed != resident.subscribed:
        values["subscribed"] = subscribed
    if values:  # a Core UPDATE on every message: no ORM flush for it
        session.connection().execute(_UPDATE, {"resident_id": resident.id, **values})
        for name, value in values.items():
            set_committed_value(resident, name, value)
    return resident


def in_service_window(resident: Resident | None, now: datetime) -> bool:
    """Whether a customer-service message may be sent now."""
    return resident is not None and in_window(resident.last_inbound_at, now)
