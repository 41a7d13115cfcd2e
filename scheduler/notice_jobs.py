"""Fan notices out into delivery rows: one outbox row per notice, offset and resident.

An offset is due when `cleanup_at - offset` has passed. Only the latest due offset is
sent (a notice created five days ahead sends its 7-day message at once, one created
twelve hours ahead sends only the 1-day message); earlier ones are marked as skipped.
Rows are bulk-inserted with the offset marked in the same transaction, and their keys
are unique, so a crash or a second run never makes a second row. Nothing is fanned out in QUIET_HOURS
(default 21:00-08:00): a notice created at night, or an offset falling at night, goes at their end.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from bot.clock import fmt_local
from bot.constants import NoticeStatus, OutboxStatus, Purpose
from bot.domain.notices import recipients_of
from bot.domain.quiet_hours import QuietHours
from bot.messaging import outbox
from bot.messaging.texts import render_text
from bot.services import services
from bot.storage.models import Notice, Resident

CHUNK = 1000  # rows per INSERT statement (well under SQLite's bound-parameter limit)


def plan(notice: Notice, now: datetime) -> tuple[int | None, list[int]]:
    """(offset to send now or None, offsets whose time passed without a send)."""
    waiting = [m for m in notice.offsets if m not in notice.fanned_out]
    passed = [m for m in waiting if notice.cleanup_at - timedelta(minutes=m) <= now]
    if not passed:
        return None, []
    if now >= notice.cleanup_at:
        return None, passed
    send = min(passed)
    return send, [m for m in passed if m != send]


def notice_text(notice: Notice, now: datetime, contact: str) -> str:
    """The message as residents read it, as of `now` (days or hours left)."""
    left = notice.cleanup_at - now
    days = round(left / timedelta(days=1))
    hours = max(1, round(left / timedelta(hours=1)))
    target = notice.target
    return render_text("notice/cleanup", place=target.get("compound") or target.get("community"),
                       buildings=target.get("buildings") or [], date=fmt_local(notice.cleanup_at),
                       days=days, hours=hours, text=notice.text, contact=contact)


def fan_out_notice(session: Session, notice: Notice, now: datetime, contact: str) -> int:
    """Create the due offset's delivery rows for one notice; commits; returns rows created."""
    send, skipped = plan(notice, now)
    if send is None and not skipped:
        return 0
    created = 0
    if send is not None:
        payload = {"text": notice_text(notice, now, contact), "template_data": None}
        openids = session.scalars(recipients_of(notice.target).order_by(Resident.id)).all()
        rows = [{"key": f"notice:{notice.id}:{send}:{openid}", "openid": openid, "purpose": Purpose.NOTICE,
                 "payload": payload, "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now,
                 "created_at": now, "notice_id": notice.id, "notice_offset": send} for openid in openids]
        outbox.enqueue_many(session, rows, CHUNK)
        created = len(rows)
    marked = sorted(set(notice.fanned_out) | set(skipped) | ({send} if send is not None else set()),
                    reverse=True)
    # Only an active notice is marked; a cancel that won the race rolls this fan-out back.
    result = cast(CursorResult[Any], session.execute(
        update(Notice).where(Notice.id == notice.id, Notice.status == NoticeStatus.ACTIVE).values(fanned_out=marked)))
    if result.rowcount != 1:
        session.rollback()
        return 0
    session.commit()
    return created


def fan_out(app: Flask, now: datetime) -> dict[str, Any]:
    """Scheduler job: fan out every active notice whose next offset is due."""
    counts = {"notices": 0, "deliveries": 0}
    if QuietHours.parse(app.config["QUIET_HOURS"]).quiet(now):
        return counts
    contact = app.config["STREET_CONTACT"]
    with services(app).sessions() as session:
        ids = session.scalars(select(Notice.id).where(Notice.status == NoticeStatus.ACTIVE).order_by(Notice.id)).all()
        for notice_id in ids:
            notice = session.get(Notice, notice_id)
            if notice is None or len(notice.fanned_out) >= len(notice.offsets):
                continue
            created = fan_out_notice(session, notice, now, contact)
            if created:
                counts["notices"] += 1
                counts["deliveries"] += created
    return counts
