"""Staff alerts that help instead of flood: each recipient's held alerts (bot/domain/case_notify.py) become
one summary message at most every STAFF_ALERT_MINUTES, and none in QUIET_HOURS.

A summary is one outbox row (key `staff-summary:<openid>:<first alert's id>`) created in the same commit that
marks the alerts it tells `batched`, so a crash or a second run never sends a second one. A single alert is
sent as itself (with the link to its case); several as the count per kind and the most urgent case, with a
link to the queue (PUBLIC_BASE_URL). 特急 alerts are never held: they go at once.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import fmt_local
from bot.constants import OutboxStatus, Priority, Purpose
from bot.domain.case_notify import place
from bot.domain.quiet_hours import QuietHours
from bot.messaging import outbox
from bot.messaging.texts import label, render_text
from bot.services import services
from bot.storage.models import Case, Outbox

KEY = "staff-summary"
QUEUE_PATH = "/console/cases?status=active&sort=priority"
RANK = {str(p): i for i, p in enumerate(Priority)}  # declared lowest first

_HELD = (Outbox.status == OutboxStatus.HELD, Outbox.purpose == Purpose.STAFF)


def _last_summary(session: Session, openid: str) -> datetime | None:
    """When the recipient's latest summary was made (a range of the outbox's unique key: indexed)."""
    prefix = f"{KEY}:{openid}:"
    return session.scalars(select(Outbox.created_at).where(Outbox.key > prefix, Outbox.key < prefix + "~")
                           .order_by(Outbox.key.desc()).limit(1)).first()


def _kind(key: str) -> str:
    """The alert's kind from its key staff:<case>:<department>:<kind>[-n]:<openid>."""
    parts = key.split(":")
    return parts[3].split("-")[0] if len(parts) > 4 else "other"


def summarise(session: Session, openid: str, now: datetime, base_url: str) -> bool:
    """Turn the recipient's held alerts into one summary row; commits. False when there were none."""
    rows = list(session.scalars(select(Outbox).where(*_HELD, Outbox.openid == openid).order_by(Outbox.id)))
    if not rows:
        return False
    cases = [c for c in (session.get(Case, r.case_id) for r in rows if r.case_id) if c is not None]
    top = min(cases, key=lambda c: (-RANK.get(c.priority, 0), c.due_at, c.id)) if cases else None
    count = len(rows)
    if count == 1:
        link = f"{base_url}/console/cases/{top.number}" if base_url and top else ""
    else:
        link = f"{base_url}{QUEUE_PATH}" if base_url else ""
    text = render_text(
        "alerts/staff_summary", count=count, single=rows[0].payload.get("text") or "", link=link,
        since=fmt_local(rows[0].created_at, "%H:%M"), kinds=Counter(_kind(r.key) for r in rows).most_common(),
        top=top, intent=label("intent", top.intent) if top else "", priority=label("priority", top.priority)
        if top else "", place=place(top) if top else "", due=fmt_local(top.due_at) if top else "")
    outbox.enqueue(session, key=f"{KEY}:{openid}:{rows[0].id:012d}", openid=openid, purpose=Purpose.STAFF,
                   text=text, now=now, case_id=top.id if top else None)
    session.execute(update(Outbox).where(Outbox.id.in_([r.id for r in rows]), Outbox.status == OutboxStatus.HELD)
                    .values(status=OutboxStatus.BATCHED))
    session.commit()
    return True


def run(app: Flask, now: datetime) -> dict[str, Any]:
    """Scheduler job: a summary for each recipient with held alerts whose last one is STAFF_ALERT_MINUTES old."""
    if QuietHours.parse(app.config["QUIET_HOURS"]).quiet(now):
        return {"summaries": 0}
    gap = timedelta(minutes=float(app.config["STAFF_ALERT_MINUTES"]))
    base_url = str(app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    made = 0
    with services(app).sessions() as session:
        openids = session.scalars(select(Outbox.openid).where(*_HELD).distinct().order_by(Outbox.openid)).all()
        for openid in openids:
            last = _last_summary(session, openid)
            if last is not None and now < last + gap:
                continue
            made += summarise(session, openid, now, base_url)
    return {"summaries": made}
