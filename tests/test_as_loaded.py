"""bot.storage.db.as_loaded: a row written or read with a Core statement becomes an ORM object of the session that
behaves as one a query loaded: found in the session, a column left out loads when read, a relationship loads, a
change is written at the next flush, and the same row twice is refused."""
from __future__ import annotations

import pytest
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.exc import InvalidRequestError

from bot.storage.db import as_loaded
from bot.storage.models import Case, CaseEvent, table_of
from tests.helpers_outreach import NOW, case

EVENTS = table_of(CaseEvent)


def _statements(db):  # type: ignore[no-untyped-def]
    heard: list[str] = []
    event.listen(db.get_bind(), "before_cursor_execute", lambda *a: heard.append(a[2]))
    return heard


def test_a_row_written_with_core_is_a_loaded_object_of_the_session(db) -> None:  # type: ignore[no-untyped-def]
    stored = case(db, "20261208-0001", "o-1", unit="2")
    db.expunge_all()
    values = {"id": stored.id, "number": "20261208-0001", "openid": "o-1", "status": "open"}  # unit left out
    loaded = as_loaded(db, Case, values)
    heard = _statements(db)
    assert inspect(loaded).persistent and db.get(Case, stored.id) is loaded and not db.dirty and heard == []
    assert loaded.number == "20261208-0001" and heard == []  # given: no SELECT
    assert loaded.unit == "2" and len(heard) == 1  # left out: read from the row when asked for
    event_id = db.connection().execute(insert(EVENTS).returning(EVENTS.c.id), dict(
        case_id=stored.id, kind="created", actor="resident", created_at=NOW)).scalar_one()
    assert [e.id for e in loaded.events] == [event_id]  # a relationship loads as on a queried row
    loaded.status = "in_progress"
    db.commit()
    assert db.connection().execute(select(Case.status).where(Case.id == stored.id)).scalar_one() == "in_progress"


def test_the_same_row_twice_in_one_session_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    stored = case(db, "20261208-0002", "o-2")
    with pytest.raises(InvalidRequestError):
        as_loaded(db, Case, {"id": stored.id, "number": "20261208-0002"})
