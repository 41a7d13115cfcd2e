"""What the answer to a message would otherwise ask the database on every message, read in the one statement
that touches the resident (bot.domain.residents.touch): whether a report waits for their address, whether a
person holds one of their cases, whether they have an open case at all, whether any consultation is open, whether
their building has a 睦邻坊 group.

A check uses a fact only to answer "none" without its own query (consultations.asked, case_queries.duplicate_of,
handoff, pending, the building's group), and only while the fact is still true: as long as
the session has no unflushed changes and has not flushed since (a flush may have written what the fact denies),
and the code that writes such a row itself (a new case, a waiting report) forgets the facts it changes. They live
as long as the message's transaction (bot.storage.db.cache).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, exists, literal, literal_column
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from bot.constants import OPEN_STATUSES, MemberStatus
from bot.storage.db import cache
from bot.storage.models import Case, Consultation, MulinfangMember, PendingReport, Resident, table_of

_RES, _CASES, _PENDING = table_of(Resident), table_of(Case), table_of(PendingReport)
_MEMBERS, _CONSULT = table_of(MulinfangMember), table_of(Consultation)

# the resident's row, spelled out: SQLAlchemy's SQLite compiler writes the UPDATE's own columns without their
# table in RETURNING, where inside a subquery they would mean the subquery's table
_OPENID: ColumnClause[Any] = literal_column(f"{_RES.name}.openid")
_BUILDING: ColumnClause[Any] = literal_column(f"{_RES.name}.building_id")
# the statuses as plain parameters, not an expanding IN that is rewritten on every execution (the statement is a
# bot.storage.prepared.Prepared one)
_OPEN = [literal(status) for status in OPEN_STATUSES]
# name → a correlated EXISTS on the resident's row; "facts_now" is the message's time
COLUMNS: dict[str, Any] = {
    "pending": exists().where(_PENDING.c.openid == _OPENID),
    "handoff": exists().where(_CASES.c.openid == _OPENID, _CASES.c.status.in_(_OPEN),
                              _CASES.c.handoff.is_(True)),
    "open_case": exists().where(_CASES.c.openid == _OPENID, _CASES.c.status.in_(_OPEN)),
    "consultation": exists().where(_CONSULT.c.status == "active", _CONSULT.c.closes_at > bindparam("facts_now"),
                                   _CONSULT.c.fanned_out_at.is_not(None)),
    "group_members": exists().where(_MEMBERS.c.building_id == _BUILDING,
                                    _MEMBERS.c.status == MemberStatus.ACTIVE),
}
LABELS = {name: f"fact_{name}" for name in COLUMNS}


def columns() -> list[Any]:
    """The facts as labelled columns for the RETURNING of the resident's statement."""
    return [column.label(LABELS[name]) for name, column in COLUMNS.items()]


def params(now: datetime) -> dict[str, datetime]:
    return {"facts_now": now}


def record(session: Session, row: dict[str, Any], now: datetime) -> None:
    """Keep the facts of the resident's row just read (popping them from it) for this transaction."""
    facts = {name: bool(row.pop(label)) for name, label in LABELS.items()}
    cache(session, "facts")[row["openid"]] = (facts, now, row.get("building_id"))


def forget(session: Session, openid: str, *names: str) -> None:
    """This transaction just wrote what may make these facts of the resident untrue."""
    known = cache(session, "facts").get(openid)
    if known is not None:
        for name in names:
            known[0].pop(name, None)


def none(session: Session, openid: str, name: str, now: datetime | None = None,
         building_id: int | None = None) -> bool:
    """True when the fact says there is none (for that building, as of `now` or later); False when unknown."""
    known = cache(session, "facts").get(openid)
    if known is None or session.new or session.dirty or session.deleted:
        return False
    facts, as_of, building = known
    if facts.get(name, True):
        return False
    if now is not None and now < as_of:
        return False
    return name != "group_members" or building_id == building


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    cache(session, "facts").clear()
