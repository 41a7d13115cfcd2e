"""The durable outbox: sends are rows first, then drained with retries and backoff.

A row is marked `sending` (committed) before the API call and `sent` after it, so a
crash leaves a record; rows stuck in `sending` are retried (at-least-once).
"""
from __future__ import annotations

from sqlalchemy import CursorResult
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Callable, cast

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.constants import OutboxStatus
from bot.storage.db import insert_ignoring
from bot.messaging.gateway import Gateway, SendError
from bot.storage.models import Outbox, Resident, table_of
from bot.domain.residents import in_service_window

log = logging.getLogger(__name__)

SENDING_LEASE = timedelta(minutes=2)
BACKOFF = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)  # seconds, per attempt


def enqueue(session: Session, *, key: str, openid: str, purpose: str, text: str, now: datetime,
            template_data: dict[str, Any] | None = None, case_id: int | None = None,
            notice_id: int | None = None, notice_offset: int | None = None,
            not_before: datetime | None = None) -> bool:
    """Add a send unless one with the same idempotency key exists (then False); part of the caller's
    transaction. One INSERT … ON CONFLICT DO NOTHING: no lookup, no savepoint."""
    result = session.connection().execute(insert_ignoring(session, table_of(Outbox), "key"), {
        "key": key, "openid": openid, "purpose": purpose, "status": OutboxStatus.PENDING, "attempts": 0,
        "payload": {"text": text, "template_data": template_data},
        "next_attempt_at": not_before or now, "created_at": now, "case_id": case_id,
        "notice_id": notice_id, "notice_offset": notice_offset,
    })
    return result.rowcount == 1


def enqueue_many(session: Session, rows: list[dict[str, Any]], chunk: int = 1000) -> None:
    """Bulk enqueue (complete Outbox column dicts), skipping keys already there."""
    statement = insert_ignoring(session, table_of(Outbox), "key")
    for start in range(0, len(rows), chunk):
        session.connection().execute(statement, rows[start:start + chunk])


@dataclass
class DrainResult:
    """Counts of one drain run."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0


def _scope(query: Any, purposes: tuple[str, ...] | None, exclude: tuple[str, ...]) -> Any:
    if purposes:
        query = query.where(Outbox.purpose.in_(purposes))
    if exclude:
        query = query.where(Outbox.purpose.not_in(exclude))
    return query


def recover_stuck(session: Session, now: datetime, purposes: tuple[str, ...] | None = None,
                  exclude: tuple[str, ...] = ()) -> int:
    """Rows left in `sending` by a crashed drain go back to pending.

    Only the holder of the scheduler lock drains, one run per scope at a time, so any
    row of this scope still `sending` when a run starts belongs to a process that died.
    """
    result = cast(CursorResult[Any], session.execute(_scope(
        update(Outbox).where(Outbox.status == OutboxStatus.SENDING), purposes, exclude
    ).values(status=OutboxStatus.PENDING, next_attempt_at=now)))
    session.commit()
    if result.rowcount:
        log.warning("outbox: %d rows were in flight during a crash; sending them again", result.rowcount)
    return int(result.rowcount)


def _claim(session: Session, query: Any, due: datetime, limit: int) -> list[Any]:
    """Mark up to `limit` due rows `sending` (committed before any of them is sent); returns them by id.

    Rows claimed but not yet sent when a process dies are recovered like the one in flight;
    only that one may have reached WeChat, so a crash still repeats at most one message.
    """
    ids = session.scalars(query.where(Outbox.next_attempt_at <= due).order_by(Outbox.id).limit(limit)).all()
    if not ids:
        return []
    table = table_of(Outbox)
    rows = session.execute(
        update(table).where(table.c.id.in_(ids), table.c.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING, claimed_until=due + SENDING_LEASE, attempts=table.c.attempts + 1)
        .returning(table.c.id, table.c.openid, table.c.purpose, table.c.payload, table.c.attempts)
    ).all()
    session.commit()
    return sorted(rows, key=lambda r: r.id)


def _release(session: Session, rows: list[Any]) -> None:
    """Give claimed rows that were not sent back (a stop was requested)."""
    if rows:
        table = table_of(Outbox)
        session.execute(update(table).where(table.c.id.in_([r.id for r in rows]),
                                            table.c.status == OutboxStatus.SENDING)
                        .values(status=OutboxStatus.PENDING, claimed_until=None, attempts=table.c.attempts - 1))
        session.commit()


CUSTOM_QUOTA_USED = 45047  # WeChat allows a few customer-service messages per 48-hour window


def _send(gateway: Gateway, row: Any, resident: Resident | None, templates: dict[str, str],
          now: datetime) -> str:
    """Send an outbox row (openid, purpose, payload) through the right channel; returns the channel used."""
    text = row.payload.get("text") or ""
    if in_service_window(resident, now):
        try:
            gateway.send_text(row.openid, text)
            return "custom"
        except SendError as exc:
            if exc.errcode != CUSTOM_QUOTA_USED:
                raise
            # this window's customer-service messages are used up (queued answers count too): template instead
    template_id = templates.get(row.purpose) or templates.get("default")
    if not template_id:
        raise SendError(None, f"no customer-service message possible and no template for '{row.purpose}'",
                        transient=False)
    data = row.payload.get("template_data") or {"content": {"value": text}}
    gateway.send_template(row.openid, template_id, data)
    return "template"


def drain(factory: sessionmaker[Session], gateway: Gateway, now: datetime, *, templates: dict[str, str],
          rate: float = 20.0, batch: int = 200, max_attempts: int = 8,
          sleep: Callable[[float], None] = time.sleep, purposes: tuple[str, ...] | None = None,
          exclude: tuple[str, ...] = (), stop: Callable[[], bool] | None = None) -> DrainResult:
    """Send due rows, at most `rate` per second; transient errors back off, permanent ones are recorded.

    Rows are claimed a chunk at a time (about one second's worth when paced) and each send's
    outcome is committed before the next send. `stop()` returning True ends the run early.
    """
    result = DrainResult()
    interval = 1.0 / rate if rate > 0 else 0.0
    chunk = max(1, min(batch, int(rate))) if rate > 0 else batch
    t0 = time.monotonic()
    with factory() as session:
        result.recovered = recover_stuck(session, now, purposes, exclude)
        query = _scope(select(Outbox.id).where(Outbox.status == OutboxStatus.PENDING), purposes, exclude)
        while True:
            rows = _claim(session, query, now + timedelta(seconds=time.monotonic() - t0), chunk)
            if not rows:
                return result
            for i, row in enumerate(rows):
                if stop is not None and stop():
                    _release(session, rows[i:])
                    return result
                started = time.monotonic()
                _deliver(session, gateway, row, now + timedelta(seconds=started - t0), templates, max_attempts, result)
                wait = interval - (time.monotonic() - started)
                if wait > 0:
                    sleep(wait)


@lru_cache(maxsize=1)
def _statements() -> tuple[Any, Any]:
    """The two per-message statements, built once (compiled-statement cache hits, no ORM overhead)."""
    table = table_of(Outbox)
    window = select(table_of(Resident).c.last_inbound_at).where(table_of(Resident).c.openid == bindparam("openid"))
    sent = update(table).where(table.c.id == bindparam("row_id")).values(
        status=OutboxStatus.SENT, channel=bindparam("channel"), sent_at=bindparam("sent_at"), errcode=None, error=None)
    return window, sent


def _resident(session: Session, openid: str) -> Resident | None:
    """The resident's current last_inbound_at, read fresh for this send (a detached, read-only Resident)."""
    found = session.execute(_statements()[0], {"openid": openid}).one_or_none()
    return None if found is None else Resident(openid=openid, last_inbound_at=found.last_inbound_at)


def _deliver(session: Session, gateway: Gateway, row: Any, now: datetime,
             templates: dict[str, str], max_attempts: int, result: DrainResult) -> None:
    """Send one claimed row and commit its outcome (the window is decided now, at send time)."""
    table = table_of(Outbox)
    resident = _resident(session, row.openid)
    try:
        channel = _send(gateway, row, resident, templates, now)
    except SendError as exc:
        values: dict[str, Any] = {"errcode": exc.errcode, "error": exc.message}
        if exc.transient and row.attempts < max_attempts:
            values.update(status=OutboxStatus.PENDING, next_attempt_at=now + timedelta(
                seconds=BACKOFF[min(row.attempts, len(BACKOFF)) - 1]))
            result.retried += 1
        else:
            values["status"] = OutboxStatus.FAILED
            result.failed += 1
            log.info("outbox %s failed permanently: errcode %s", row.id, exc.errcode)
        session.execute(update(table).where(table.c.id == row.id).values(**values))
        if exc.errcode == 43004:
            session.execute(update(Resident).where(Resident.openid == row.openid).values(subscribed=False))
        session.commit()
        return
    session.execute(_statements()[1], {"row_id": row.id, "channel": channel, "sent_at": now})
    session.commit()
    result.sent += 1
