"""Where a burst's message waits when the database cannot take it in time (locked, restarting).

The burst path (bot.messaging.inbound_queue) gives up on a locked database after LOCKED_WAIT; the
message then goes to a Redis list and WeChat gets `success`, so nobody is answered with an error and
nothing is lost. The scheduler moves the list into the database as queued messages every second
(INSERT … ON CONFLICT DO NOTHING: a retry stored meanwhile is not stored twice), and answers them.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import redis
from sqlalchemy.orm import Session

from bot.messaging.inbound import QUEUED, TABLE, Inbound, row_values
from bot.storage.db import insert_ignoring

log = logging.getLogger(__name__)

KEY = "mulin:inbound:spool"
_TIMES = ("sent_at", "received_at")


def push(store: redis.Redis, msg: Inbound, now: datetime) -> None:
    """Keep the message in Redis until the scheduler can store it (raises RedisError if Redis is down too)."""
    values = row_values(msg, now, QUEUED)
    for name in _TIMES:
        values[name] = values[name].isoformat()
    store.rpush(KEY, json.dumps(values, ensure_ascii=False))
    log.warning("database busy: a queued message waits in Redis for the scheduler")


def _row(item: bytes | str) -> dict[str, Any]:
    values: dict[str, Any] = json.loads(item)
    for name in _TIMES:
        values[name] = datetime.fromisoformat(values[name])
    return values


def flush(session: Session, store: redis.Redis, limit: int = 500) -> int:
    """Store up to `limit` spooled messages as queued (committed), then drop them from Redis; how many.

    Only the scheduler holding the lock flushes, and new messages go to the list's tail, so the
    first `limit` items read are the ones removed.
    """
    items = store.lrange(KEY, 0, limit - 1)
    if not items:
        return 0
    session.connection().execute(insert_ignoring(session, TABLE, "dedup_key"), [_row(item) for item in items])
    session.commit()
    store.ltrim(KEY, len(items), -1)
    return len(items)
