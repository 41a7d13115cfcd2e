"""Inbound messages: normalise, store before handling, claim once, remember the reply.

The database row keyed by dedup_key is the idempotency record: WeChat's retries
(also concurrent ones, on other workers) find it and get the first reply.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

from redis.exceptions import RedisError
from sqlalchemy import bindparam, func, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.constants import UNANSWERED as UNANSWERED  # re-exported: callers read inbound.UNANSWERED
from bot.constants import InboundStatus
from bot.messaging import receipts
from bot.storage.db import next_message
from bot.storage.models import InboundMessage, table_of
from bot.storage.prepared import Prepared

log = logging.getLogger(__name__)

# How long a delivery that died before it could start handling keeps others away. Handling itself is
# covered for as long as it lasts: handle() first updates the message's row in the handling transaction,
# which holds the row (PostgreSQL: row lock; SQLite: the write lock) until that transaction ends, and a
# takeover skips a locked row. So a retry during a slow first handling waits for its reply instead of
# running it again, and a worker that dies mid-handling (its transaction gone) is taken over.
LEASE = timedelta(seconds=4)
WAIT_FOR_FIRST = 3.0  # how long a concurrent retry waits for the first delivery's reply
WAIT_STEP = 0.05


@dataclass(frozen=True)
class Inbound:
    """A message or event as Mulin sees it, independent of wechatpy's classes."""

    dedup_key: str
    openid: str
    msg_type: str
    sent_at: datetime
    raw: dict[str, Any] = field(default_factory=dict)
    event: str | None = None
    content: str | None = None  # text, or a voice message's recognition
    media_id: str | None = None
    event_key: str | None = None

    @property
    def subscription_changes(self) -> list[tuple[str, str]]:
        """(template_id, accept|reject) pairs of a subscribe_msg_popup/change event (see _subscriptions)."""
        pairs = (item.split(":", 1) for item in str(self.raw.get(SUBSCRIPTIONS) or "").split(";") if ":" in item)
        return [(template_id, status) for template_id, status in pairs]

    @cached_property  # read by each of the dozens of checks a message goes through
    def text(self) -> str | None:
        """What the resident wrote (or said, when WeChat recognised the voice)."""
        return self.content.strip() if self.content and self.content.strip() else None


class Malformed(ValueError):
    """A push WeChat would never send (a bad CreateTime, an over-long field): refused with 400."""


LATEST_CREATE_TIME = 4_102_444_800  # 2100-01-01: beyond it a CreateTime is not a real push
# the widest each stored field may be (the columns of inbound_messages; PostgreSQL enforces them)
MAX_LENGTHS = {"FromUserName": 64, "MsgType": 32, "Event": 64, "MediaId": 256}


def _create_time(value: object) -> int:
    """CreateTime as seconds since 1970: ASCII digits only (int() would take "１２３" or " 12 ")."""
    text = "0" if value in (None, "") else str(value)
    if not (text.isascii() and text.isdigit()) or int(text) > LATEST_CREATE_TIME:
        raise Malformed("CreateTime")
    return int(text)


def _check_lengths(raw: dict[str, Any]) -> None:
    for name, limit in MAX_LENGTHS.items():
        if len(str(raw.get(name) or "")) > limit:
            raise Malformed(name)


SUBSCRIPTIONS = "SubscribeList"  # raw's flat copy of a subscribe_msg_* event's nested <List> items
_SUBSCRIBE_BLOCKS = ("SubscribeMsgPopupEvent", "SubscribeMsgChangeEvent")


def _subscriptions(data: dict[str, Any]) -> str | None:
    """"template:status;…" from a subscribe_msg_popup/change event's nested lists (one item: a dict)."""
    pairs = []
    for block in _SUBSCRIBE_BLOCKS:
        items = (data.get(block) or {}).get("List") if isinstance(data.get(block), dict) else None
        for item in items if isinstance(items, list) else [items] if isinstance(items, dict) else []:
            template_id, status = str(item.get("TemplateId") or ""), str(item.get("SubscribeStatusString") or "")
            if template_id and status and len(template_id) <= 128 and ":" not in template_id + status:
                pairs.append(f"{template_id}:{status.lower()}")
    return ";".join(pairs) or None


def from_wechat(message: Any) -> Inbound:
    """Normalise a wechatpy message or event; Malformed when no real push could look like it."""
    raw = {k: v for k, v in message._data.items() if isinstance(v, (str, int, float, type(None)))}
    if (subscriptions := _subscriptions(message._data)) is not None:
        raw[SUBSCRIPTIONS] = subscriptions
    if (sent := receipts.sent_list(message._data)) is not None:
        raw[receipts.SENT_LIST] = sent
    _check_lengths({**raw, "FromUserName": message.source})
    openid = str(message.source or "")
    msg_type = str(raw.get("MsgType", message.type or "unknown")).lower()
    created = _create_time(raw.get("CreateTime"))
    sent_at = datetime.fromtimestamp(created, UTC).replace(tzinfo=None)
    event = str(raw.get("Event", "")).lower() or None if msg_type == "event" else None
    msg_id = raw.get("MsgId") or raw.get("MsgID")
    if msg_type != "event" and msg_id:
        key = f"{openid}:{msg_id}"
    else:  # WeChat's retries repeat the EventKey; two menu taps within one second differ by it
        # (a template message's receipt names its MsgID: two receipts in one second differ by it)
        key = f"{openid}:ev:{created}:{event or msg_type}:{raw.get('EventKey') or raw.get('MsgID') or ''}"
    content = raw.get("Content") if msg_type == "text" else raw.get("Recognition") if msg_type == "voice" else None
    return Inbound(
        dedup_key=key[:160], openid=openid, msg_type=msg_type, sent_at=sent_at, raw=raw,
        event=event, content=_text(content), media_id=_text(raw.get("MediaId")),
        event_key=scene_key(raw.get("EventKey")),
    )


def _text(value: object) -> str | None:
    """A field as text (xmltodict gives str; a number-only field may come as int)."""
    return None if value is None else str(value)


def scene_key(event_key: object) -> str | None:
    """An EventKey without the "qrscene_" prefix WeChat adds when a QR code makes someone subscribe."""
    if not isinstance(event_key, str):
        return None
    return event_key[len("qrscene_"):] if event_key.startswith("qrscene_") else event_key


Handler = Callable[[Session, Inbound, datetime], "str | None"]


class Busy(Exception):
    """A dependency (Redis) is unavailable: keep the message for later, answer politely."""


TABLE = table_of(InboundMessage)
QUEUED = InboundStatus.QUEUED


def row_values(msg: Inbound, now: datetime, status: str) -> dict[str, Any]:
    return dict(
        dedup_key=msg.dedup_key, openid=msg.openid, msg_type=msg.msg_type, event=msg.event,
        content=msg.content, media_id=msg.media_id, raw=msg.raw, sent_at=msg.sent_at,
        received_at=now, status=status, claimed_until=now + LEASE if status == InboundStatus.RECEIVED else None,
    )


def store(session: Session, msg: Inbound, now: datetime) -> tuple[InboundMessage, bool]:
    """Insert the message (committed before handling); return (row, is_first_delivery)."""
    row, first, _behind = _store(session, msg, now)
    return row, first


def _store(session: Session, msg: Inbound, now: datetime) -> tuple[InboundMessage, bool, bool]:
    """As store, and whether an earlier message of the resident was still unanswered when it was inserted
    (queued_before, read in the INSERT itself)."""
    values = row_values(msg, now, InboundStatus.RECEIVED)
    try:
        # Core insert with bound parameters: compiled once, no ORM unit of work on the hot path.
        new_id, behind = session.connection().execute(_INSERT, values).one()
        session.commit()
        return InboundMessage(id=new_id, **values), True, behind is not None
    except IntegrityError:
        session.rollback()
        existing = session.scalars(
            select(InboundMessage).where(InboundMessage.dedup_key == msg.dedup_key)
        ).one()
        return existing, False, False


_QUEUED_BEFORE = (
    select(TABLE.c.id)
    .where(TABLE.c.openid == bindparam("openid"), TABLE.c.status.in_(UNANSWERED),
           TABLE.c.id < bindparam("row_id"))
    .limit(1)
)
_EARLIER = TABLE.alias("earlier")
# the new row spelled out: SQLite's compiler writes the INSERT's own columns without their table in RETURNING
_INSERT = insert(TABLE).returning(TABLE.c.id, select(_EARLIER.c.id).where(
    _EARLIER.c.openid == literal_column(f"{TABLE.name}.openid"), _EARLIER.c.status.in_(UNANSWERED),
    _EARLIER.c.id < literal_column(f"{TABLE.name}.id")).limit(1).scalar_subquery().label("behind"))


def queued_before(session: Session, openid: str, row_id: int) -> bool:
    """Whether an earlier message of this resident is still unanswered (queued, being answered by the
    scheduler or stranded): then this one waits behind it, so answers keep their order."""
    return session.connection().execute(_QUEUED_BEFORE, {"openid": openid, "row_id": row_id}).first() is not None


def waiting(session: Session, now: datetime, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Messages residents are still waiting on for a while (queued or stranded): the scheduler is behind or down."""
    return session.connection().execute(
        select(func.count()).select_from(TABLE)
        .where(TABLE.c.status.in_(UNANSWERED), TABLE.c.received_at < now - older_than)
    ).scalar_one()


_CLAIMABLE = (
    select(TABLE.c.id)
    .where(TABLE.c.id.in_(bindparam("ids", expanding=True)),
           TABLE.c.status.in_(bindparam("statuses", expanding=True)))
    .where(TABLE.c.claimed_until.is_(None) | (TABLE.c.claimed_until < bindparam("now")))
    .with_for_update(skip_locked=True)  # PostgreSQL: a row being handled right now is not taken (SQLite: no-op)
)
_CLAIM = (
    update(TABLE)
    .where(TABLE.c.id.in_(_CLAIMABLE))
    .values(status=InboundStatus.RECEIVED, claimed_until=bindparam("until"))
    .returning(TABLE.c.id)
)


def claim_many(session: Session, row_ids: list[int], now: datetime, statuses: tuple[str, ...]) -> set[int]:
    """Take over several unanswered messages in one committed statement; the ids this caller got.
    A Core UPDATE: the ORM's version would match it against every object in the session."""
    claimed = set(session.connection().execute(
        _CLAIM, {"ids": row_ids, "statuses": list(statuses), "now": now, "until": now + LEASE}).scalars())
    session.commit()
    return claimed


def claim(session: Session, row: InboundMessage, now: datetime,
          statuses: tuple[str, ...] = (InboundStatus.RECEIVED,)) -> bool:
    """Take over an unhandled message whose first handler died (lease expired), or a queued one."""
    return row.id in claim_many(session, [row.id], now, statuses)


def wait_for_reply(session: Session, row_id: int, deadline: float) -> InboundMessage | None:
    """Poll until the concurrent first delivery has been handled, or the deadline passes."""
    while time.monotonic() < deadline:
        session.expire_all()
        row = session.get(InboundMessage, row_id)
        if row is not None and row.status != InboundStatus.RECEIVED:
            return row
        time.sleep(WAIT_STEP)
    return None


Deliver = Callable[[Session, str], None]


def handle(session: Session, row: InboundMessage, msg: Inbound, handler: Handler,
           now: datetime, busy_reply: Callable[[], str], error_reply: Callable[[], str],
           as_of: datetime | None = None, deliver: Deliver | None = None, hold: bool = True) -> str | None:
    """Run the handler (as of `as_of`, default now); its effects and the stored reply commit together.

    `deliver` (the scheduler's late answers) puts the reply in the outbox in that same transaction,
    so a crash can never leave a message marked answered whose answer was never queued for sending.
    `hold=False`: the caller has just claimed the row and keeps everyone else from it in its own way (the
    answering job leases the resident, scheduler.resident_leases), so the holding UPDATE is left out.
    """
    try:
        if hold:
            _set(session, row.id, claimed_until=now + LEASE)  # holds the row while handling: see LEASE
        reply = handler(session, msg, as_of or now)
        if reply and deliver is not None:
            deliver(session, reply)
    except (Busy, RedisError, OperationalError):  # Redis down, database locked or unreachable
        session.rollback()
        _set(session, row.id, claimed_until=None)
        session.commit()
        log.warning("inbound %s kept for later: a dependency is unavailable", row.id)
        return busy_reply()
    except Exception as exc:  # a bug in one handler must not lose the message or kill the worker
        session.rollback()
        log.exception("inbound %s failed in handler", row.id)
        reply = error_reply()
        _set(session, row.id, status=InboundStatus.FAILED, reply=reply, error=type(exc).__name__, handled_at=now)
        if deliver is not None:
            deliver(session, reply)
        session.commit()
        return reply
    _set(session, row.id, status=InboundStatus.HANDLED, reply=reply, handled_at=now)
    session.commit()
    return reply


def answer_in_batch(session: Session, row_id: int, msg: Inbound, handler: Handler, now: datetime, as_of: datetime,
                    deliver: Deliver) -> None:
    """As handle, for one of a batch the answering job answers in one transaction: its effects, its answer in the
    outbox and its row marked answered join the caller's transaction. No commit and no rollback here: an
    exception is the caller's, which rolls the batch back and answers its messages one by one with handle."""
    next_message(session)
    reply = handler(session, msg, as_of)
    if reply:
        deliver(session, reply)
    _set(session, row_id, status=InboundStatus.HANDLED, reply=reply, handled_at=now)


def _queued(queue_on: Queue, spool: Spool | None, msg: Inbound, now: datetime) -> bool:
    """Store a burst's message as queued; if the database is locked or down, spool it (True: acknowledged)."""
    try:
        return queue_on.store(msg, now)
    except Exception:  # any database error (locked, restarting): the message must still be kept
        if spool is None:
            raise
    spool(msg, now)  # Redis down as well: WeChat gets an error and retries
    return True


_UPDATE = update(TABLE).where(TABLE.c.id == bindparam("row_id"))
_UPDATES: dict[tuple[str, ...], Prepared] = {}  # by the columns set


def _set(session: Session, row_id: int, **values: object) -> None:
    """An UPDATE of one stored message, in the session's transaction (a prepared statement: no ORM bookkeeping)."""
    names = tuple(sorted(values))
    statement = _UPDATES.get(names)
    if statement is None:
        statement = _UPDATES[names] = Prepared(_UPDATE, names)
    statement.execute(session.connection(), {"row_id": row_id, **values})


class Queue(Protocol):
    """The burst path's writer (bot.messaging.inbound_queue.QueueWriter)."""

    def store(self, msg: Inbound, now: datetime) -> bool:
        """True if stored as queued; False if it was already stored."""


Spool = Callable[[Inbound, datetime], None]


def receive(db: Callable[[], Session], msg: Inbound, handler: Handler, now: datetime,
            busy_reply: Callable[[], str], error_reply: Callable[[], str],
            queue_on: Queue | None = None, spool: Spool | None = None) -> str | None:
    """Store, de-duplicate and handle one inbound message; the reply text or None (`success`).

    With `queue_on` (the worker is overloaded, see bot.web.load) a new message is only stored by it as
    queued and acknowledged; the scheduler answers it moments later with a customer-service message.
    When the database cannot take it in time, `spool` keeps it elsewhere (bot.messaging.inbound_spool).
    """
    started = time.monotonic()
    if queue_on is not None and _queued(queue_on, spool, msg, now):
        return None
    session = db()  # opened only now: the queued path above needs no ORM session
    row, first, behind = _store(session, msg, now)
    if first and behind:
        _set(session, row.id, status=QUEUED, claimed_until=None)  # behind its resident's queued messages
        session.commit()
        return None
    if first or claim(session, row, now):
        return handle(session, row, msg, handler, now, busy_reply, error_reply)
    if row.status == InboundStatus.RECEIVED:
        done = wait_for_reply(session, row.id, started + WAIT_FOR_FIRST)
        if done is None:
            return None
        row = done
    return row.reply
