"""bot.storage.prepared: a statement run on the DBAPI cursor gives what SQLAlchemy's Core execute gives, in the
caller's transaction, and the engine's statement listeners hear it."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import String, bindparam, cast, event, insert, literal, select

from bot.constants import OPEN_STATUSES
from bot.storage.models import Case, CaseEvent, Resident, table_of
from bot.storage.prepared import Prepared
from tests.helpers_outreach import case

EVENTS, RESIDENTS, CASES = table_of(CaseEvent), table_of(Resident), table_of(Case)
AT = datetime(2026, 12, 7, 8, 30, 15, 123456)


def test_an_insert_writes_the_row_core_would(db) -> None:  # type: ignore[no-untyped-def]
    c = case(db, "20261207-0001", "o-1")
    columns = ["case_id", "kind", "actor", "note", "data", "created_at"]
    prepared = Prepared(insert(EVENTS).returning(EVENTS.c.id), columns)
    values = {"case_id": c.id, "kind": "created", "actor": "resident", "note": None, "created_at": AT}
    (first,), = prepared.rows(db.connection(), {**values, "data": {"inform": ["community"], "地点": "院里"}})
    (second,), = prepared.rows(db.connection(), {**values, "data": None})
    core = db.connection().execute(insert(EVENTS).returning(EVENTS.c.id), {**values, "data": None}).scalar_one()
    db.commit()  # the same transaction as the session's: committed with it
    stored = {row.id: row for row in db.connection().execute(
        select(EVENTS.c.id, cast(EVENTS.c.data, String).label("text"), EVENTS.c.created_at))}
    assert stored[first].created_at == AT and db.get(CaseEvent, first).data == {"inform": ["community"], "地点": "院里"}
    assert stored[second].text == stored[core].text  # None stored as Core stores it


def test_a_select_reads_types_as_core_does(db) -> None:  # type: ignore[no-untyped-def]
    db.add(Resident(openid="o-2", subscribed=True, last_inbound_at=AT, created_at=AT))
    db.commit()
    statement = select(RESIDENTS.c.subscribed, RESIDENTS.c.last_inbound_at, RESIDENTS.c.name,
                       literal("x").label("marker")).where(RESIDENTS.c.openid == bindparam("openid"))
    [row] = Prepared(statement).mappings(db.connection(), {"openid": "o-2"})
    [core] = db.connection().execute(statement, {"openid": "o-2"}).mappings().all()
    assert row == dict(core) == {"subscribed": True, "last_inbound_at": AT, "name": None, "marker": "x"}
    assert Prepared(statement).rows(db.connection(), {"openid": "nobody"}) == []


def test_listeners_hear_each_statement(app, db) -> None:  # type: ignore[no-untyped-def]
    heard: list[str] = []

    def listen(_conn, _cursor, sql, *_):  # type: ignore[no-untyped-def]
        heard.append(sql)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        Prepared(select(RESIDENTS.c.id).where(RESIDENTS.c.openid == bindparam("openid"))).rows(
            db.connection(), {"openid": "o-3"})
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(heard) == 1 and heard[0].startswith("SELECT residents.id")


def test_an_expanding_in_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="literal"):
        Prepared(select(CASES.c.id).where(CASES.c.status.in_(OPEN_STATUSES))).rows(db.connection(), {})


def test_execute_many_writes_each_row_as_core_would_in_one_statement(app, db) -> None:  # type: ignore[no-untyped-def]
    c = case(db, "20261207-0002", "o-4")
    columns = ["case_id", "kind", "actor", "note", "data", "created_at"]
    rows = [{"case_id": c.id, "kind": kind, "actor": "staff", "note": note, "data": data, "created_at": AT}
            for kind, note, data in (("accept", "已派单", {"to": "物业"}), ("note", None, None))]
    heard: list[tuple[str, bool]] = []

    def listen(_conn, _cursor, sql, _params, _context, many):  # type: ignore[no-untyped-def]
        heard.append((sql, many))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        Prepared(insert(EVENTS), columns).execute_many(db.connection(), rows)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    db.connection().execute(insert(EVENTS), [{**rows[1], "kind": "core"}])
    db.commit()
    stored = {row.kind: row for row in db.connection().execute(
        select(EVENTS.c.kind, EVENTS.c.note, EVENTS.c.data, cast(EVENTS.c.data, String).label("text"),
               EVENTS.c.created_at).where(EVENTS.c.case_id == c.id))}
    assert len(heard) == 1 and heard[0][1] is True and heard[0][0].startswith("INSERT INTO case_events")
    assert stored["accept"].data == {"to": "物业"} and stored["accept"].note == "已派单"
    assert stored["accept"].created_at == AT and stored["note"].text == stored["core"].text


@pytest.mark.parametrize("at", [AT, datetime(2026, 12, 8), datetime(2026, 12, 8, 9, tzinfo=UTC)],
                         ids=["microseconds", "midnight", "aware"])
def test_a_datetime_is_stored_as_the_text_core_stores(db, at) -> None:  # type: ignore[no-untyped-def]
    c = case(db, "20261208-0003", "o-5")
    values = {"case_id": c.id, "kind": "created", "actor": "resident", "note": None, "data": None, "created_at": at}
    (ours,), = Prepared(insert(EVENTS).returning(EVENTS.c.id), list(values)).rows(db.connection(), values)
    core = db.connection().execute(insert(EVENTS).returning(EVENTS.c.id), values).scalar_one()
    text = dict(db.connection().execute(select(EVENTS.c.id, cast(EVENTS.c.created_at, String))).all())
    assert text[ours] == text[core]
