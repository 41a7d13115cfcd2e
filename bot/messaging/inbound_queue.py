"""The burst path's one write: store a message as queued, as cheaply as a durable write can be.

In a burst (bot.web.load) each web worker only stores a new message and answers `success`; this write
is then most of the request's cost. SQLAlchemy's per-statement machinery (pool checkout, execution
context, result object) cost more than SQLite's insert and commit themselves, so the writer keeps
one DBAPI connection of its own per thread and runs the statement SQLAlchemy compiled once for the
dialect (bot.storage.prepared), with SQLAlchemy's own type processors (datetimes, JSON), in a transaction of its
own.
The row is the same one the ORM path would write; bench/webhook_bench.py measures the difference.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bot.messaging.inbound import QUEUED, TABLE, Inbound, row_values
from bot.storage.db import insert_ignoring_for
from bot.storage.prepared import Prepared

log = logging.getLogger(__name__)

# SQLite has one writer at a time. Its own busy handler sleeps 1, 2, 5, 10 … up to 100 ms between tries,
# so while the scheduler answers a queue (a write transaction every few milliseconds) a waiting worker
# mostly wakes into the next one: p99 went to 0.7 s. Polling every half millisecond finds the gaps.
LOCKED_POLL = 0.0005
LOCKED_WAIT = 2.5  # then the message is spooled (bot.messaging.inbound_spool), still within WeChat's 5 seconds

_COLUMNS = tuple(row_values(Inbound("", "", "", datetime.min), datetime.min, QUEUED))


class QueueWriter:
    """INSERT … ON CONFLICT DO NOTHING of a queued message, committed, on a held connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect = engine.dialect
        self._compiled = Prepared(insert_ignoring_for(dialect.name, TABLE, "dedup_key"), _COLUMNS).compiled(dialect)
        self._local = threading.local()
        self._sqlite = dialect.name == "sqlite"

    def _connection(self) -> Any:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # never reuse a connection across gunicorn's fork
            local.conn, local.pid = self._engine.raw_connection(), os.getpid()
            if self._sqlite:
                local.conn.driver_connection.execute("PRAGMA busy_timeout=0")  # store() waits its own way
        return local.conn

    def store(self, msg: Inbound, now: datetime) -> bool:
        """True if stored; False if it was already stored (a retry), which the caller handles as usual."""
        params = self._compiled.parameters(row_values(msg, now, QUEUED))
        conn = self._connection()
        deadline = time.monotonic() + LOCKED_WAIT
        try:
            while True:
                try:
                    return self._insert(conn, params)
                except sqlite3.OperationalError as exc:
                    if not self._sqlite or "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    conn.rollback()
                    time.sleep(LOCKED_POLL)
        except Exception as exc:
            log.warning("queued message not stored (%s); its connection is replaced", type(exc).__name__)
            self._drop(conn)
            raise

    def _insert(self, conn: Any, params: Any) -> bool:
        cursor = conn.cursor()
        try:
            cursor.execute(self._compiled.sql, params)
            stored = bool(cursor.rowcount == 1)
        finally:
            cursor.close()
        conn.commit()
        return stored

    def _drop(self, conn: Any) -> None:
        """After an error the connection's state is unknown: roll back, discard it; the next store opens another."""
        del self._local.pid
        try:
            conn.rollback()
        except Exception:  # already broken (a PostgreSQL restart): invalidating is all that is left
            pass
        conn.invalidate()
