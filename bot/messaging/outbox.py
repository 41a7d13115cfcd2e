"""The durable outbox: sends are rows first, then drained with retries and backoff.

A row is marked `sending` (committed) before the API call and `sent` after it, so a
crash leaves a record; rows stuck in `sending` past their claim are retried (at-least-once).
A send WeChat may have accepted without our seeing the answer (a read timeout) is marked
`uncertain` and never resent automatically: `flask outbox retry --uncertain` decides.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, event, func, select, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from bot.constants import OutboxStatus
from bot.messaging import receipts, subscriptions
from bot.messaging.gateway import Gateway, SendError
from bot.messaging.template_book import TemplateBook
from bot.messaging.window import in_window
from bot.storage.db import insert_ignoring, insert_ignoring_for
from bot.storage.models import Case, Notice, Outbox, Resident, table_of
from bot.storage.prepared import Prepared

log = logging.getLogger(__name__)

SENDING_LEASE = timedelta(minutes=2)
BACKOFF = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)  # seconds, per attempt


def enqueue(session: Session, *, key: str, openid: str, purpose: str, text: str, now: datetime,
            template_data: dict[str, Any] | None = None, case_id: int | None = None,
            notice_id: int | None = None, notice_offset: int | None = None,
            not_before: datetime | None = None, status: str = OutboxStatus.PENDING) -> bool:
    """Add a send unless one with the same idempotency key exists (then False); part of the caller's
    transaction. One INSERT … ON CONFLICT DO NOTHING: no lookup, no savepoint. `status` HELD keeps it
    from the drain until a job releases it (staff alerts waiting for their summary)."""
    _insert_later(session)  # rows keep the order they were added in
    result = session.connection().execute(insert_ignoring(session, table_of(Outbox), "key"), _row(
        key, openid, purpose, text, now, template_data, case_id, notice_id, notice_offset, not_before, status))
    return result.rowcount == 1


def enqueue_later(session: Session, *, key: str, openid: str, purpose: str, text: str, now: datetime,
                  case_id: int | None = None, status: str = OutboxStatus.PENDING) -> None:
    """As enqueue, without telling whether the key was new: the row is inserted together with the transaction's
    other later rows in one statement, before the commit (or before the session's next ORM statement, or the
    next enqueue), so a message's staff alerts and its answer cost one INSERT. Dropped with a rollback."""
    session.info.setdefault(_LATER, []).append(
        _row(key, openid, purpose, text, now, None, case_id, None, None, None, status))


_LATER = "mulin.outbox_later"


def _row(key: str, openid: str, purpose: str, text: str, now: datetime, template_data: dict[str, Any] | None,
         case_id: int | None, notice_id: int | None, notice_offset: int | None, not_before: datetime | None,
         status: str) -> dict[str, Any]:
    return {"key": key, "openid": openid, "purpose": purpose, "status": status, "attempts": 0,
            "payload": {"text": text, "template_data": template_data},
            "next_attempt_at": not_before or now, "created_at": now, "case_id": case_id,
            "notice_id": notice_id, "notice_offset": notice_offset}


# SQLite's executemany runs in the library (no round trips), so the prepared form is the cheaper one there;
# psycopg2's is one round trip per row, where Core's batches the rows into one INSERT … VALUES
_INSERT_LATER_SQLITE = Prepared(insert_ignoring_for("sqlite", table_of(Outbox), "key"),
                                tuple(_row("", "", "", "", datetime.min, None, None, None, None, None, "")))


def _insert_later(session: Session) -> None:
    rows = session.info.pop(_LATER, None)
    if rows:
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            _INSERT_LATER_SQLITE.execute_many(connection, rows)
        else:
            connection.execute(insert_ignoring(session, table_of(Outbox), "key"), rows)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    _insert_later(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    if state.session.info.get(_LATER):
        _insert_later(state.session)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (inserted already) or rolled back: nothing is kept
        session.info.pop(_LATER, None)


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
    uncertain: int = 0
    waiting: int = 0  # 1 when the run ended because WeChat gives no access_token (gateway_health says why)


def _scope(query: Any, purposes: tuple[str, ...] | None, exclude: tuple[str, ...]) -> Any:
    if purposes:
        query = query.where(Outbox.purpose.in_(purposes))
    if exclude:
        query = query.where(Outbox.purpose.not_in(exclude))
    return query


def recover_stuck(session: Session, now: datetime, purposes: tuple[str, ...] | None = None,
                  exclude: tuple[str, ...] = ()) -> int:
    """Rows left in `sending` by a crashed drain go back to pending once their claim has expired.

    A row whose claim has not expired may still be in the hands of a scheduler that lost the lock
    a moment ago (Redis restarted) and is about to notice: it is never taken from it.
    """
    expired = Outbox.claimed_until.is_(None) | (Outbox.claimed_until < now)
    result = cast(CursorResult[Any], session.execute(_scope(
        update(Outbox).where(Outbox.status == OutboxStatus.SENDING, expired), purposes, exclude
    ).values(status=OutboxStatus.PENDING, next_attempt_at=now, claimed_until=None)))
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
        .returning(table.c.id, table.c.openid, table.c.purpose, table.c.payload, table.c.attempts,
                   table.c.case_id, table.c.notice_id)
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


# No customer-service message possible after all: this window's few are used up (45047; queued answers
# count too), or WeChat says the 48 hours are over (45015; its clock, not our last_inbound_at, decides).
CUSTOM_NOT_ALLOWED = {45047, 45015}


def _context(session: Session, gateway: Gateway, row: Any, now: datetime) -> dict[str, Any]:
    """What a template's fields are rendered from: the row's case and notice, the time, the street."""
    return {**gateway.context, "sent_at": now,
            "case": session.get(Case, row.case_id) if row.case_id else None,
            "notice": session.get(Notice, row.notice_id) if row.notice_id else None}


def _send(session: Session, gateway: Gateway, row: Any, resident: Resident | None, book: TemplateBook,
          now: datetime) -> tuple[str, str | None]:
    """Send an outbox row (openid, purpose, payload) through the right channel; returns the channel used
    and WeChat's msgid (template message and subscription notice: their delivery receipt names it)."""
    text = row.payload.get("text") or ""
    if in_window(resident.last_inbound_at if resident else None, now):
        try:
            gateway.send_text(row.openid, text)
            return "custom", None
        except SendError as exc:
            if exc.errcode not in CUSTOM_NOT_ALLOWED:
                raise
    wanted = row.purpose in book.entries or row.purpose in gateway.subscriptions.entries
    context = _context(session, gateway, row, now) if wanted else {}
    answer = _subscription(session, gateway, row, text, context, now)
    if answer is not None:
        return "subscribe", receipts.msgid_of(answer)
    message = book.message(row.purpose, text, context, row.payload.get("template_data"))
    if message is None:
        raise SendError(None, f"{receipts.UNREACHABLE}: outside the 48-hour window, no accepted subscription "
                              f"notice and no template for '{row.purpose}'", transient=False)
    answer = gateway.send_template(row.openid, message.template_id, message.data, message.url)
    return "template", receipts.msgid_of(answer)


def subscribable(session: Session, gateway: Gateway, purpose: str, openid: str) -> bool:
    """Whether this purpose has a subscription notice and the resident accepted its template (the channel
    after the 48-hour window; bot.messaging.reach forecasts with the same check)."""
    entry = gateway.subscriptions.entries.get(purpose)
    return entry is not None and subscriptions.accepted(session, openid, entry.template_id)


NOT_SUBSCRIBED = 43101  # the resident no longer accepts this subscription notice


def _subscription(session: Session, gateway: Gateway, row: Any, text: str, context: dict[str, Any],
                  now: datetime) -> dict[str, Any] | None:
    """Send a subscription notice if the resident accepted this purpose's template (WeChat's answer);
    None to go on."""
    if not subscribable(session, gateway, row.purpose, row.openid):
        return None
    entry = gateway.subscriptions.entries[row.purpose]
    message = gateway.subscriptions.message(row.purpose, text, context)
    if message is None:
        return None
    try:
        return gateway.send_subscription(row.openid, message.template_id, message.data, message.url)
    except SendError as exc:
        if exc.errcode != NOT_SUBSCRIBED:
            raise
        subscriptions.withdrawn(session, row.openid, entry.template_id, now)
        session.commit()  # before the template send: SQLite's write lock is never held across an API call
        return None


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
    book = replace(gateway.templates, shortcut=templates)  # the file's templates, TEMPLATE_IDS as the shortcut
    t0 = time.monotonic()
    with factory() as session:
        result.recovered = recover_stuck(session, now, purposes, exclude)
        if gateway.backing_off():
            result.waiting = 1
            return result
        query = _scope(select(Outbox.id).where(Outbox.status == OutboxStatus.PENDING), purposes, exclude)
        while True:
            rows = _claim(session, query, now + timedelta(seconds=time.monotonic() - t0), chunk)
            if not rows:
                return result
            for i, row in enumerate(rows):
                if stop is not None and stop():  # SIGTERM, or this scheduler no longer holds the lock
                    _release(session, rows[i:])
                    return result
                started = time.monotonic()
                if not _deliver(session, gateway, row, now + timedelta(seconds=started - t0), book,
                                max_attempts, result):
                    _release(session, rows[i + 1:])
                    return result
                wait = interval - (time.monotonic() - started)
                if wait > 0:
                    sleep(wait)


@lru_cache(maxsize=1)
def _statements() -> tuple[Any, Any]:
    """The two per-message statements, built once (compiled-statement cache hits, no ORM overhead)."""
    table = table_of(Outbox)
    window = select(table_of(Resident).c.last_inbound_at).where(table_of(Resident).c.openid == bindparam("openid"))
    sent = update(table).where(table.c.id == bindparam("row_id")).values(
        status=OutboxStatus.SENT, channel=bindparam("channel"), sent_at=bindparam("sent_at"), errcode=None, error=None,
        msgid=bindparam("msgid"), receipt=None)
    return window, sent


def _resident(session: Session, openid: str) -> Resident | None:
    """The resident's current last_inbound_at, read fresh for this send (a detached, read-only Resident)."""
    found = session.execute(_statements()[0], {"openid": openid}).one_or_none()
    return None if found is None else Resident(openid=openid, last_inbound_at=found.last_inbound_at)


def _deliver(session: Session, gateway: Gateway, row: Any, now: datetime,
             book: TemplateBook, max_attempts: int, result: DrainResult) -> bool:
    """Send one claimed row and commit its outcome (the window is decided now, at send time);
    False when no access_token can be had, so the run should end."""
    table = table_of(Outbox)
    resident = _resident(session, row.openid)
    try:
        channel, msgid = _send(session, gateway, row, resident, book, now)
    except SendError as exc:
        values = _failure(row, exc, now, max_attempts, result)
        session.execute(update(table).where(table.c.id == row.id).values(**values))
        if exc.errcode == 43004:
            session.execute(update(Resident).where(Resident.openid == row.openid).values(subscribed=False))
        session.commit()
        return not exc.token
    session.execute(_statements()[1], {"row_id": row.id, "channel": channel, "sent_at": now, "msgid": msgid})
    session.commit()
    result.sent += 1
    return True


def _failure(row: Any, exc: SendError, now: datetime, max_attempts: int, result: DrainResult) -> dict[str, Any]:
    """The row's new values after a failed send: waiting for a token, uncertain, retried later, or failed."""
    values: dict[str, Any] = {"errcode": exc.errcode, "error": exc.message, "claimed_until": None}
    if exc.token:  # nothing was sent: this attempt does not count against the row
        values.update(status=OutboxStatus.PENDING, attempts=row.attempts - 1, next_attempt_at=now)
        result.waiting = 1
    elif exc.uncertain:
        values["status"] = OutboxStatus.UNCERTAIN
        result.uncertain += 1
        log.warning("outbox %s: no answer from WeChat; it may have been delivered, so it is not resent", row.id)
    elif exc.transient and row.attempts < max_attempts:
        values.update(status=OutboxStatus.PENDING, next_attempt_at=now + timedelta(
            seconds=BACKOFF[min(row.attempts, len(BACKOFF)) - 1]))
        result.retried += 1
    else:
        values["status"] = OutboxStatus.FAILED
        result.failed += 1
        log.info("outbox %s failed permanently: errcode %s", row.id, exc.errcode)
    return values


def requeue(session: Session, now: datetime, *, since: datetime | None = None, errcode: int | None = None,
            uncertain: bool = False) -> int:
    """Failed sends (with `uncertain`: also those WeChat may have delivered) go back to pending, due now,
    with a fresh count of attempts; committed. The operator has fixed the cause (IP whitelist, template)."""
    table = table_of(Outbox)
    statuses = (OutboxStatus.FAILED, OutboxStatus.UNCERTAIN) if uncertain else (OutboxStatus.FAILED,)
    query = update(table).where(table.c.status.in_(statuses))
    if since is not None:
        query = query.where(table.c.created_at >= since)
    if errcode is not None:
        query = query.where(table.c.errcode == errcode)
    result = cast(CursorResult[Any], session.execute(
        query.values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, claimed_until=None)))
    session.commit()
    return int(result.rowcount)


def status_counts(session: Session) -> dict[str, int]:
    """How many sends are in each status (pending, sending, sent, failed, uncertain, cancelled)."""
    rows = session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
    return {status: count for status, count in rows}


def failure_counts(session: Session) -> list[tuple[int | None, int]]:
    """Failed sends by WeChat errcode, most frequent first."""
    rows = session.execute(select(Outbox.errcode, func.count()).where(Outbox.status == OutboxStatus.FAILED)
                           .group_by(Outbox.errcode).order_by(func.count().desc())).all()
    return [(code, count) for code, count in rows]
