"""Rows only an import changes (compounds, buildings), kept per process and database, so that answering a
message puts a resident's address into the session without a SELECT.

The directory's version is a row in `counters` that `flask --app bot import-directory` (and anything else that
changes compounds or buildings) bumps with changed() in its own transaction; a lookup passes the version it
read in the same statement as the resident (bot.domain.residents.touch), and a different version empties
this process's copy. Nothing is kept across databases: each engine has its own.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, bindparam, event, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from bot.storage.db import as_loaded, cache, insert_ignoring
from bot.storage.models import Counter, Staff, table_of

VERSION = "directory:version"
_COUNTERS = table_of(Counter)
# a scalar subquery for the statement that reads the resident: NULL (None) before the first import bumps it
VERSION_OF = select(_COUNTERS.c.value).where(_COUNTERS.c.name == VERSION).scalar_subquery()
_BUMP = update(_COUNTERS).where(_COUNTERS.c.name == bindparam("counter")).values(value=_COUNTERS.c.value + 1)

T = TypeVar("T")
_UNSET = object()


class _Copy:
    """One database's rows in this process, as of one directory version."""

    def __init__(self) -> None:
        self.version: object = _UNSET
        self.rows: dict[tuple[type[Any], int], dict[str, Any]] = {}
        self.derived: dict[str, Any] = {}


_copies: WeakKeyDictionary[Engine, _Copy] = WeakKeyDictionary()
_lock = threading.Lock()


def changed(session: Session, counter: str = VERSION) -> None:
    """Compounds or buildings (or staff: STAFF_VERSION) changed in this transaction: every process reloads them
    (after the commit)."""
    if session.execute(_BUMP, {"counter": counter}).rowcount == 0:  # type: ignore[attr-defined]
        session.execute(insert_ignoring(session, _COUNTERS, "name"), {"name": counter, "value": 1})


def _copy(session: Session, version: object) -> _Copy:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _lock:
        copy = _copies.get(engine)
        if copy is None:
            copy = _copies[engine] = _Copy()
        if copy.version != version:
            copy.version, copy.rows, copy.derived = version, {}, {}
        return copy


def read_directory_version(session: Session, version: object) -> None:
    """The directory version read with the resident (bot.domain.residents.touch), for attach_read() in this
    transaction."""
    cache(session, "versions")["directory"] = version


def attach_read(session: Session, cls: type[T], row_id: int | None) -> T | None:
    """As attach, with the version this transaction read with the resident; without one, the session's get()."""
    version = cache(session, "versions").get("directory", _UNSET)
    if version is _UNSET:
        return session.get(cls, row_id) if row_id is not None else None
    return attach(session, version, cls, row_id)


def derived(session: Session, name: str, build: Callable[[Session], T]) -> T:
    """A value built from the directory (`build` reads it), kept in this process for the directory version this
    transaction read with the resident; without one, built afresh (and kept for the transaction only)."""
    version = cache(session, "versions").get("directory", _UNSET)
    if version is _UNSET:
        kept = cache(session, "derived")
        if name not in kept:
            kept[name] = build(session)
        return kept[name]  # type: ignore[no-any-return]
    copy = _copy(session, version)
    if name not in copy.derived:
        copy.derived[name] = build(session)
    return copy.derived[name]  # type: ignore[no-any-return]


def attach(session: Session, version: object, cls: type[T], row_id: int | None) -> T | None:
    """The row as a loaded object of this session: already there, from this process's copy (no SQL), or
    read once (one SELECT) and kept."""
    if row_id is None:
        return None
    key = session.identity_key(cls, row_id)
    present = session.identity_map.get(key)
    if present is not None:
        return present  # type: ignore[no-any-return]
    copy = _copy(session, version)
    values = copy.rows.get((cls, row_id))
    if values is None:
        loaded = session.get(cls, row_id)
        if loaded is not None:
            copy.rows[(cls, row_id)] = {attr.key: getattr(loaded, attr.key)
                                        for attr in inspect(cls).column_attrs}
        return loaded
    return as_loaded(session, cls, values)


# Staff, the recipients of every case's alerts: changed by import-staff, binding and the console, through the
# ORM: any flush that writes a Staff row, or an ORM UPDATE/DELETE of Staff, bumps their version in the same
# transaction.
STAFF_VERSION = "staff:version"
STAFF_VERSION_OF = select(_COUNTERS.c.value).where(_COUNTERS.c.name == STAFF_VERSION).scalar_subquery()
_STAFF = select(Staff.id, Staff.openid, Staff.department, Staff.community_id).order_by(Staff.id)
StaffRow = tuple[int, str, str, int | None]  # id, openid, department, community_id
_staff: WeakKeyDictionary[Engine, tuple[object, list[StaffRow]]] = WeakKeyDictionary()


def read_staff_version(session: Session, version: object) -> None:
    """The staff version read with the resident (bot.domain.residents.touch), for staff() in this transaction."""
    cache(session, "versions")["staff"] = version


def staff(session: Session) -> list[StaffRow]:
    """Every staff member, from this process's copy when the transaction read the staff version; read afresh
    (one SELECT) when it did not, or when the copy is of another version."""
    version = cache(session, "versions").get("staff", _UNSET)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    if version is not _UNSET:
        with _lock:
            kept = _staff.get(engine)
        if kept is not None and kept[0] == version:
            return kept[1]
    rows = [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in session.execute(_STAFF).all()]
    if version is not _UNSET:
        with _lock:
            _staff[engine] = (version, rows)
    return rows


def _bump_staff(session: Session) -> None:
    cache(session, "versions").pop("staff", None)
    connection = session.connection()  # not session.execute: no autoflush inside a flush
    if connection.execute(_BUMP, {"counter": STAFF_VERSION}).rowcount == 0:
        connection.execute(insert_ignoring(session, _COUNTERS, "name"), {"name": STAFF_VERSION, "value": 1})


@event.listens_for(Session, "before_flush")
def _staff_written(session: Session, _context: Any, _instances: Any) -> None:
    if any(isinstance(obj, Staff) for obj in (*session.new, *session.dirty, *session.deleted)):
        _bump_staff(session)


@event.listens_for(Session, "do_orm_execute")
def _staff_written_in_bulk(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and mapper.class_ is Staff:
        _bump_staff(state.session)
