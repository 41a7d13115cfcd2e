"""Case numbers like 20261125-0007: a per-day counter row incremented atomically in the database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.clock import to_local
from bot.models import Counter

COUNTERS = Counter.__table__  # Core statements: no ORM bulk-update bookkeeping on every new case


def _ensure_row(session: Session, name: str) -> None:
    """Create the counter row unless it exists (no error when another process just made it)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(COUNTERS).values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"]))


def next_number(session: Session, now: datetime) -> str:
    """The next case number of the local (Asia/Shanghai) day; unique across processes.

    The UPDATE takes the row's write lock until the caller commits, so two transactions
    never read the same value; Case.number's unique constraint is the backstop.
    """
    day = to_local(now).strftime("%Y%m%d")
    name = f"case:{day}"
    _ensure_row(session, name)
    value = session.execute(
        update(COUNTERS).where(COUNTERS.c.name == name).values(value=COUNTERS.c.value + 1).returning(COUNTERS.c.value)
    ).scalar_one()
    return f"{day}-{value:04d}"
