"""Case numbers like 20261125-0007: a per-day counter row incremented atomically in the database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from bot.clock import to_local
from bot.storage.db import insert_ignoring
from bot.storage.models import Counter, table_of
from bot.storage.prepared import Prepared

COUNTERS = table_of(Counter)  # a prepared statement: no ORM or Core bookkeeping on every new case
_NEXT = Prepared(update(COUNTERS).where(COUNTERS.c.name == bindparam("counter"))
                 .values(value=COUNTERS.c.value + 1).returning(COUNTERS.c.value))


def _ensure_row(session: Session, name: str) -> None:
    """Create the counter row unless it exists (no error when another process just made it)."""
    session.execute(insert_ignoring(session, COUNTERS, "name"), {"name": name, "value": 0})


def next_number(session: Session, now: datetime) -> str:
    """The next case number of the local (Asia/Shanghai) day; unique across processes.

    The UPDATE takes the row's write lock until the caller commits, so two transactions
    never read the same value; Case.number's unique constraint is the backstop.
    """
    day = to_local(now).strftime("%Y%m%d")
    name = f"case:{day}"
    rows = _NEXT.rows(session.connection(), {"counter": name})
    if not rows:  # the day's first case
        _ensure_row(session, name)
        rows = _NEXT.rows(session.connection(), {"counter": name})
    (value,), = rows
    return f"{day}-{value:04d}"
