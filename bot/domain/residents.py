"""Residents: who follows the account, and when they last wrote (the 48-hour window)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain import message_facts
from bot.messaging.window import in_window
from bot.storage import static_rows
from bot.storage.db import as_loaded, before_commit, cache, insert_ignoring
from bot.storage.models import Building, Compound, Resident, table_of
from bot.storage.prepared import Prepared

_RESIDENTS = table_of(Resident)
_UPDATE = update(_RESIDENTS).where(_RESIDENTS.c.id == bindparam("resident_id"))


def _earlier_than(name: str) -> Any:
    """The stored contact is missing or earlier than the bound one: only then is it written (a contact never
    moves the window back, e.g. a message answered late, after a later one recorded its own)."""
    return or_(_RESIDENTS.c.last_inbound_at.is_(None), _RESIDENTS.c.last_inbound_at < bindparam(name))


_LATER_CONTACT = case((_earlier_than("last_inbound_at"), bindparam("last_inbound_at")),
                      else_=_RESIDENTS.c.last_inbound_at)
_CONTACT = (update(_RESIDENTS).where(_RESIDENTS.c.openid == bindparam("openid_"), _earlier_than("at"))
            .values(last_inbound_at=bindparam("at")))
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
    values: dict[str, object] = {}
    if interactive:
        values["last_inbound_at"] = now
    known: dict[str, Resident] = cache(session, "residents")
    cached = known.get(openid)
    if values or subscribed is not None:
        if cached is None or cached not in session:  # the usual first look in a message: one statement
            touched = _touched(session, openid, values if subscribed is None else {**values, "subscribed": subscribed},
                               now)
            if touched is not None:
                known[openid] = touched
                return touched
    resident = get_or_create(session, openid, now)
    if subscribed is not None and subscribed != resident.subscribed:
        values["subscribed"] = subscribed
    if values:  # a Core UPDATE on every message: no ORM flush for it
        session.connection().execute(_UPDATE, {"resident_id": resident.id, **values})
        for name, value in values.items():
            set_committed_value(resident, name, value)
    return resident


_TOUCH: dict[tuple[str, ...] | None, Prepared] = {}


def _touch_statement(names: tuple[str, ...] | None) -> Prepared:
    """The resident with the directory's and the staff's versions and the message's facts
    (bot.domain.message_facts): a SELECT (names None), or an UPDATE of these columns RETURNING them; built once."""
    statement = _TOUCH.get(names)
    if statement is None:
        read = (*_RESIDENTS.c, static_rows.VERSION_OF.label("directory_version"),
                static_rows.STAFF_VERSION_OF.label("staff_version"), *message_facts.columns())
        statement = _TOUCH[names] = Prepared(
            select(*read).where(_RESIDENTS.c.openid == bindparam("openid_")) if names is None else
            update(_RESIDENTS).where(_RESIDENTS.c.openid == bindparam("openid_"))
            .values({name: _LATER_CONTACT if name == "last_inbound_at" else bindparam(name) for name in names})
            .returning(*read))
    return statement


def _touched(session: Session, openid: str, values: dict[str, object], now: datetime) -> Resident | None:
    """A known resident, touched and read with its compound and building (from this process's copy of the
    directory) in one statement. None for someone not yet known.

    On SQLite the contact itself (`values`) is written just before the commit (bot.storage.db.before_commit):
    the first write of a transaction takes SQLite's one write lock until the commit, and nothing in the message
    reads the contact back from the database, so the web workers storing a flood wait less for the answering
    job. PostgreSQL locks only the row: there the UPDATE … RETURNING is one statement instead of two."""
    deferred = _defers_contact(session)
    params = {"openid_": openid, **message_facts.params(now), **({} if deferred else values)}
    rows = _touch_statement(None if deferred else tuple(sorted(values))).mappings(session.connection(), params)
    if not rows:
        return None
    found = rows[0]
    if deferred and _recorded(found["last_inbound_at"], values.get("last_inbound_at")):
        values = {name: value for name, value in values.items() if name != "last_inbound_at"}
    row = found | values if deferred else found  # RETURNING: the values as written
    version = row.pop("directory_version")
    static_rows.read_directory_version(session, version)
    static_rows.read_staff_version(session, row.pop("staff_version"))
    message_facts.record(session, row, now)
    if deferred and values:
        before_commit(session, _UPDATE, {"resident_id": row["id"], **values})
    resident: Resident | None = session.identity_map.get(session.identity_key(Resident, row["id"]))
    if resident is not None:  # read earlier in this transaction: only what changed
        for name in values:
            set_committed_value(resident, name, row[name])
    else:
        resident = as_loaded(session, Resident, row)
    # as the joined load of get_or_create would: loaded relationships (the session only holds objects weakly)
    set_committed_value(resident, "compound", static_rows.attach(session, version, Compound, resident.compound_id))
    set_committed_value(resident, "building", static_rows.attach(session, version, Building, resident.building_id))
    return resident


def _defers_contact(session: Session) -> bool:
    """SQLite: a message's touch only reads the resident, its contact is written apart (see _touched)."""
    return bool(session.get_bind().dialect.name == "sqlite")


def _recorded(stored: datetime | None, contact: object) -> bool:
    """Whether the database already holds this contact or a later one (record_contacts, or a later message)."""
    return isinstance(contact, datetime) and stored is not None and stored >= contact


def record_contacts(session: Session, contacts: Iterable[tuple[str, datetime]]) -> None:
    """Open the 48-hour window of residents whose messages are about to be answered late, all in one statement
    (an executemany) with the answering job's claim: each message's own touch then finds its contact recorded
    and writes nothing. Never moves a window back. On PostgreSQL nothing is done here: there a message's touch
    writes its contact in the very statement that reads the resident."""
    if not _defers_contact(session):
        return
    latest: dict[str, datetime] = {}
    for openid, at in contacts:
        latest[openid] = max(at, latest.get(openid, at))
    if latest:
        session.connection().execute(_CONTACT, [{"openid_": openid, "at": at} for openid, at in latest.items()])


def in_service_window(resident: Resident | None, now: datetime) -> bool:
    """Whether a customer-service message may be sent now."""
    return resident is not None and in_window(resident.last_inbound_at, now)
