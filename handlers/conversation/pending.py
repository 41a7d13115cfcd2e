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

from bot.storage.models import PendingReport

KEPT = ("pending", "hint", "hint_sure")  # the report and the compound a QR code or location suggested


def keep(session: Session, openid: str, data: dict[str, Any], now: datetime) -> None:
    """Store the waiting report of this dialogue data, or drop the stored one when none waits any more."""
    row = session.get(PendingReport, openid)
    if not data.get("pending"):
        if row is not None:
            session.delete(row)
        return
    kept = json.loads(json.dumps({k: data[k] for k in KEPT if k in data}))  # a fresh copy, never shared
    if row is None:
        session.add(PendingReport(openid=openid, data=kept, updated_at=now))
        return
    row.data, row.updated_at = kept, now
    flag_modified(row, "data")


def waiting(session: Session, openid: str, now: datetime, ttl: timedelta) -> dict[str, Any] | None:
    """The dialogue data of a report still waiting for its address (not older than ttl), or None."""
    row = session.get(PendingReport, openid)
    if row is None or row.updated_at < now - ttl:
        return None
    copy: dict[str, Any] = json.loads(json.dumps(row.data))  # the caller may change it: not the row's own object
    return copy
