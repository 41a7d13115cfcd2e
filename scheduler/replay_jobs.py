"""Messages stored but not answered at once: queued in a burst (bot.web.load), or stranded (Redis
down, worker killed). The scheduler answers them in arrival order, as customer-service messages:
a resident's later message never before an earlier one that is still unanswered."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot.constants import InboundStatus, Purpose
from bot.domain import residents
from bot.messaging import inbound, outbox
from bot.messaging.texts import render_text
from bot.messaging.window import opens_window
from bot.services import services
from bot.storage.models import InboundMessage
from scheduler.resident_leases import ResidentLeases

log = logging.getLogger(__name__)
STALE = timedelta(minutes=1)  # WeChat has given up retrying by then
CLAIM_CHUNK = 25  # claimed together with their contacts: two statements and one commit (a synced write on
# PostgreSQL) for 25 messages, answered in about a tenth of the lease
# A quiet queue (a flood is over, or the scheduler was down) is answered a chunk at a time in one transaction; while
# messages are still arriving each answer commits on its own: on SQLite a transaction holds the one write lock from
# its first write to its commit, and the web workers storing the flood come first (bench/webhook_bench.py: stored
# 725/s one by one, 455/s in fives, 247/s in chunks of 25, beside answered 115, 229 and 205/s during the flood).
ARRIVING = timedelta(seconds=1)
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
        outbox.enqueue_later(session, key=f"late-reply:{row.id}", openid=row.openid, purpose=Purpose.REPLY,
                             text=text, now=now)
    return deliver


def _due(session: Session, now: datetime, limit: int) -> list[InboundMessage]:
    """Queued messages, and stranded ones old enough that WeChat no longer retries them, oldest first."""
    return list(session.scalars(
        select(InboundMessage).where(or_(
            InboundMessage.status == InboundStatus.QUEUED,
            and_(InboundMessage.status == InboundStatus.RECEIVED, InboundMessage.received_at < now - STALE),
        )).order_by(InboundMessage.id).limit(limit)
    ).all())


def _waits_behind(session: Session, rows: list[InboundMessage]) -> dict[str, int]:
    """Per resident, their first unanswered message outside this pass (a stranded one still too fresh,
    or one a web worker is answering): their messages after it wait for a later pass."""
    taken = {row.id for row in rows}
    if not taken:
        return {}
    unanswered = session.execute(
        select(InboundMessage.openid, InboundMessage.id)
        .where(InboundMessage.openid.in_({row.openid for row in rows}),
               InboundMessage.status.in_(inbound.UNANSWERED), InboundMessage.id < max(taken))
        .order_by(InboundMessage.id)
    ).all()
    first: dict[str, int] = {}
    for openid, row_id in unanswered:
        if row_id not in taken:
            first.setdefault(openid, row_id)
    return first


def _release(session: Session, statuses: dict[int, str]) -> None:
    """Give back claimed messages unanswered, in the status they had (they wait behind an earlier one)."""
    for row_id, status in statuses.items():
        session.execute(update(InboundMessage).where(InboundMessage.id == row_id)
                        .values(status=status, claimed_until=None))
    session.commit()


def _kept_for_later(held: set[str], openid: str) -> Callable[[], str]:
    """The busy answer of a late message: none is sent; the resident's later messages wait behind it."""
    def busy() -> str:
        held.add(openid)
        return ""
    return busy


def replay(app: Flask, now: datetime, limit: int = 200, budget: timedelta = BUDGET) -> int:
    """Answer queued and stranded messages in arrival order, chunk after chunk within `budget`, as
    customer-service messages. Safe to run in several processes at once: see scheduler.resident_leases."""
    leases = ResidentLeases(services(app).redis)
    count, started = 0, time.monotonic()
    try:
        while True:  # batch after batch while a full one was answered and the budget lasts (a flood's queue)
            rows, answered = _replay(app, now, limit, budget, leases, started)
            count += answered
            if rows < limit or answered == 0 or time.monotonic() - started >= budget.total_seconds():
                return count
    finally:
        leases.release()


def _replay(app: Flask, now: datetime, limit: int, budget: timedelta, leases: ResidentLeases,
            started: float) -> tuple[int, int]:
    """One batch of up to `limit` due messages: (messages due in it, messages answered)."""
    handler = services(app).handler
    count = 0
    with app.app_context(), services(app).sessions() as session:
        rows = _due(session, now, limit)
        due = len(rows)
        behind = _waits_behind(session, rows)
        rows = [row for row in rows if row.openid not in behind or row.id < behind[row.openid]]
        before = {row.id: row.status for row in rows}  # read now: a rollback in handle() expires the rows
        held: set[str] = set()  # residents with a message left unanswered in this pass: their later ones wait
        for start in range(0, len(rows), CLAIM_CHUNK):
            if start and time.monotonic() - started >= budget.total_seconds():
                break  # the rest stay unanswered for the next run
            chunk = [row for row in rows[start:start + CLAIM_CHUNK] if row.openid not in held]
            mine = leases.take(row.openid for row in chunk)  # another process is answering the others
            held.update(row.openid for row in chunk if row.openid not in mine)
            chunk = [row for row in chunk if row.openid in mine]
            ids = [row.id for row in chunk]
            # the 48-hour windows these messages open, written in the claim's commit (one statement for the chunk)
            residents.record_contacts(session, [(row.openid, row.received_at) for row in chunk
                                                if opens_window(row.msg_type, row.event)])
            claimed = inbound.claim_many(session, ids, now, inbound.UNANSWERED) if ids else set()
            skipped: dict[int, str] = {}
            batch = []
            for row in chunk:
                if row.openid in held or row.id not in claimed:
                    held.add(row.openid)
                    if row.id in claimed:
                        skipped[row.id] = before[row.id]
                    continue
                batch.append(row)
            if batch and leases.real and not _arriving(session, now) and _together(
                    session, batch, handler, services(app).prepare, now):
                count += len(batch)
            else:
                count += _one_by_one(session, batch, handler, now, held, skipped, before, hold=not leases.real)
            if skipped:
                _release(session, skipped)
    return due, count


def _arriving(session: Session, now: datetime) -> bool:
    """Whether messages are still coming in (the newest was stored under ARRIVING before the run): then each answer
    commits on its own, and the web workers storing the flood get SQLite's one write lock between answers."""
    newest = session.connection().execute(_NEWEST).scalar()
    return newest is not None and newest > now - ARRIVING


_NEWEST = select(inbound.TABLE.c.received_at).order_by(inbound.TABLE.c.id.desc()).limit(1)


def _together(session: Session, batch: list[InboundMessage], handler: inbound.Handler,
              prepare: Callable[[Session, list[str]], None], now: datetime) -> bool:
    """Answer the chunk's messages in one transaction (one commit, the outbox rows in one INSERT, the dialogue
    states read and written in one round trip each); False, with nothing kept, when any of them fails."""
    try:
        prepare(session, [row.openid for row in batch])
        for row in batch:  # as of its arrival: the case's clock and the 48-hour window start when the resident wrote
            inbound.answer_in_batch(session, row.id, _as_inbound(row), handler, now, as_of=row.received_at,
                                    deliver=_answer_later(row, now))
        session.commit()
    except Exception as exc:  # Redis or the database unavailable, or one handler's bug: each on its own, below
        session.rollback()
        log.warning("a batch of %d messages is answered one by one instead (%s)", len(batch), type(exc).__name__)
        return False
    return True


def _one_by_one(session: Session, batch: list[InboundMessage], handler: inbound.Handler, now: datetime,
                held: set[str], skipped: dict[int, str], before: dict[int, str], hold: bool) -> int:
    """Answer each message in its own transaction: a failure stays with its message (kept for later when a
    dependency is down, the error reply for a bug); a resident kept for later has their later messages released."""
    count = 0
    for row in batch:
        if row.openid in held:
            skipped[row.id] = before[row.id]
            continue
        if row.status in (InboundStatus.HANDLED, InboundStatus.FAILED):
            continue  # answered before the batch failed (nothing in a message commits on its own: a safeguard)
        inbound.handle(session, row, _as_inbound(row), handler, now, as_of=row.received_at,
                       busy_reply=_kept_for_later(held, row.openid), error_reply=lambda: render_text("error"),
                       deliver=_answer_later(row, now), hold=hold)  # just claimed, leased
        count += 1
    return count
