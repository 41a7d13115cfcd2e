"""A report waiting for the resident's address, kept in the database as well as in the dialogue.

Redis may be lost (restarted, flushed): the report and what is known towards its address
survive in `pending_reports`, for as long as the dialogue would have lasted.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from bot.domain import message_facts
from bot.storage.db import cache
from bot.storage.models import PendingReport

KEPT = ("pending", "hint", "hint_sure")  # the report and the compound a QR code or location suggested
_NONE = object()


def _row(session: Session, openid: str) -> PendingReport | None:
    """The resident's row, read at most once per message (none known from the message's facts: no read)."""
    seen = cache(session, "pending_reports")
    row = seen.get(openid, _NONE)
    if row is _NONE:
        none = message_facts.none(session, openid, "pending")
        row = seen[openid] = None if none else session.get(PendingReport, openid)
    return row  # type: ignore[no-any-return]


def keep(session: Session, openid: str, data: dict[str, Any], now: datetime) -> None:
    """Store the waiting report of this dialogue data, or drop the stored one when none waits any more."""
    row = _row(session, openid)
    if not data.get("pending"):
        if row is not None:
            session.delete(row)
            cache(session, "pending_reports")[openid] = None
        return
    kept = json.loads(json.dumps({k: data[k] for k in KEPT if k in data}))  # a fresh copy, never shared
    if row is None:
        row = cache(session, "pending_reports")[openid] = PendingReport(openid=openid, data=kept, updated_at=now)
        session.add(row)
        return
    row.data, row.updated_at = kept, now
    flag_modified(row, "data")


def waiting(session: Session, openid: str, now: datetime, ttl: timedelta) -> dict[str, Any] | None:
    """The dialogue data of a report still waiting for its address (not older than ttl), or None."""
    row = _row(session, openid)
    if row is None or row.updated_at < now - ttl:
        return None
    copy: dict[str, Any] = json.loads(json.dumps(row.data))  # the caller may change it: not the row's own object
    return copy
