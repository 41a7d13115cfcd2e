"""Residents' stored messages are kept INBOUND_RETENTION_DAYS, then deleted.

What a resident wrote (text, voice recognition, media ids, the raw push with locations and links)
is kept in inbound_messages for answering, de-duplication and the console's conversation view.
After the retention period the rows go. A case keeps what staff need: its own description, address,
photos and events live in cases and case_events, which are not touched. Messages still waiting to
be answered are never deleted, however old.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from bot.constants import UNANSWERED
from bot.services import services
from bot.storage.models import InboundMessage, table_of

BATCH = 2000  # rows per committed DELETE: SQLite's write lock is never held for long


def purge(session: Session, before: datetime, batch: int = BATCH) -> int:
    """Delete answered messages received before `before`, a batch per commit; how many."""
    table = table_of(InboundMessage)
    total = 0
    while True:
        old = (select(table.c.id).where(table.c.received_at < before, table.c.status.not_in(UNANSWERED))
               .limit(batch))
        result = cast(CursorResult[Any], session.execute(delete(table).where(table.c.id.in_(old))))
        deleted = int(result.rowcount)
        session.commit()
        total += deleted
        if deleted < batch:
            return total


def run(app: Flask, now: datetime) -> dict[str, Any]:
    """Delete stored messages older than INBOUND_RETENTION_DAYS (0: keep for ever)."""
    days = int(app.config["INBOUND_RETENTION_DAYS"])
    if days <= 0:
        return {"deleted": 0}
    with services(app).sessions() as session:
        return {"deleted": purge(session, now - timedelta(days=days))}
