"""Messages stored but not answered at once: queued in a burst (bot.web.load), or stranded (Redis
down, worker killed). The scheduler answers them in arrival order, as customer-service messages."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.constants import InboundStatus, Purpose
from bot.messaging import inbound, outbox
from bot.storage.models import InboundMessage
from bot.messaging.texts import render_text
from bot.services import services

STALE = timedelta(minutes=1)  # WeChat has given up retrying by then
CLAIM_CHUNK = 10  # claimed together, one commit (a synced write on PostgreSQL) for ten; well within the lease
# Chunks are claimed as of the run's start with a LEASE of 4 s: past half of it the run claims no more and
# the next run (a second later) goes on, so no claim outlives its lease before the message is answered.
BUDGET = inbound.LEASE / 2


def _as_inbound(row: InboundMessage) -> inbound.Inbound:
    return inbound.Inbound(
        dedup_key=row.dedup_key, openid=row.openid, msg_type=row.msg_type, sent_at=row.sent_at,
        raw=row.raw or {}, event=row.event, content=row.content, media_id=row.media_id,
        event_key=inbound.scene_key((row.raw or {}).get("EventKey")),
    )


def _answer_later(row: InboundMessage, now: datetime) -> inbound.Deliver:
    """WeChat's passive-reply moment has passed: the answer goes out as a customer-service message."""
    def deliver(session: Session, text: str) -> None:
        outbox.enqueue(session, key=f"late-reply:{row.id}", openid=row.openid, purpose=Purpose.REPLY, text=text,
                       now=now)
    return deliver


def replay(app: Flask, now: datetime, limit: int = 200, budget: timedelta = BUDGET) -> int:
    """Answer queued and stranded messages, chunk after chunk within `budget`, as customer-service messages."""
    handler = services(app).handler
    count, started = 0, time.monotonic()
    with app.app_context(), services(app).sessions() as session:
        rows = session.scalars(
            select(InboundMessage).where(or_(
                InboundMessage.status == InboundStatus.QUEUED,
                and_(InboundMessage.status == InboundStatus.RECEIVED, InboundMessage.received_at < now - STALE),
            )).order_by(InboundMessage.id).limit(limit)
        ).all()
        for start in range(0, len(rows), CLAIM_CHUNK):
            if start and time.monotonic() - started >= budget.total_seconds():
                break  # the rest stay unanswered for the next run
            chunk = rows[start:start + CLAIM_CHUNK]
            claimed = inbound.claim_many(session, [row.id for row in chunk], now, inbound.UNANSWERED)
            for row in chunk:
                if row.id not in claimed:
                    continue
                # as of its arrival: the case's clock and the 48-hour window start when the resident wrote
                inbound.handle(session, row, _as_inbound(row), handler, now, as_of=row.received_at,
                               busy_reply=str, error_reply=lambda: render_text("error"),
                               deliver=_answer_later(row, now))
                count += 1
    return count
