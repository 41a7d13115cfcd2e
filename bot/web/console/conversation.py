"""A case's conversation: the resident's messages about this case, the bot's replies, and sends for it.

Messages carry no case of their own, but a handler works "as of" the message's arrival, so a case created,
or an event added to it, while handling a message bears that message's `received_at` exactly. A message
belongs to the case it created or added to; a message that touched no case (the dialogue before a report,
a courtesy) belongs to the resident's case opened next, within LEAD_IN, else to the one opened last before
it. So a staff member never reads, on their case, what the same resident told another department.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.constants import Purpose
from bot.storage.models import Case, CaseEvent, InboundMessage, Outbox

LEAD_IN = timedelta(hours=6)  # the dialogue that led to a case (address questions) comes this long before it
LIMIT = 200
REPLY_KEY = "console-reply"  # a console reply's outbox key: console-reply:<case id>:<its audit event id>


@dataclass(frozen=True)
class Line:
    """One line of the conversation; who is resident|bot|staff, kind is text|image|... or the send purpose."""

    at: datetime
    who: str
    kind: str
    text: str
    status: str | None = None
    url: str | None = None
    name: str | None = None  # the staff member who wrote a console reply


def _inbound(row: InboundMessage) -> list[Line]:
    lines = []
    if row.msg_type != "event":
        url = (row.raw or {}).get("PicUrl") if row.msg_type == "image" else None
        lines.append(Line(row.received_at, "resident", row.msg_type, row.content or row.media_id or "", url=url))
    if row.reply:
        lines.append(Line(row.handled_at or row.received_at, "bot", "reply", row.reply))
    return lines


def _touches(session: Session, openid: str) -> dict[datetime, set[int]]:
    """When each of the resident's messages created or added to a case: arrival time -> case ids."""
    rows = session.execute(
        select(CaseEvent.created_at, CaseEvent.case_id).join(Case, Case.id == CaseEvent.case_id)
        .where(Case.openid == openid, CaseEvent.actor == "resident"))
    touched: dict[datetime, set[int]] = {}
    for at, case_id in rows:
        touched.setdefault(at, set()).add(case_id)
    return touched


def _owner(at: datetime, opened: list[tuple[datetime, int]]) -> int | None:
    """The case an untouched message at `at` belongs to: the next opened within LEAD_IN, else the last before."""
    later = [case_id for created, case_id in opened if at <= created <= at + LEAD_IN]
    if later:
        return later[0]
    earlier = [case_id for created, case_id in opened if created < at]
    return earlier[-1] if earlier else None


def _messages(session: Session, case: Case) -> list[InboundMessage]:
    """The resident's messages that belong to the case."""
    opened = [(row.created_at, row.id) for row in session.execute(
        select(Case.created_at, Case.id).where(Case.openid == case.openid).order_by(Case.created_at, Case.id))]
    touched = _touches(session, case.openid)
    rows = session.scalars(
        select(InboundMessage).where(InboundMessage.openid == case.openid,
                                     InboundMessage.received_at >= case.created_at - LEAD_IN)
        .order_by(InboundMessage.id).limit(LIMIT * 5))
    own = []
    for row in rows:
        cases = touched.get(row.received_at)
        if (case.id in cases) if cases else _owner(row.received_at, opened) == case.id:
            own.append(row)
    return own[:LIMIT]


def _send(row: Outbox, writers: dict[str, str]) -> Line:
    """A send for the case: a console reply (its writer named) or the bot's status and follow-up messages."""
    text = (row.payload or {}).get("text") or ""
    if row.purpose == Purpose.REPLY:
        return Line(row.created_at, "staff", row.purpose, text, status=row.status, name=writers.get(row.key))
    return Line(row.created_at, "bot", row.purpose, text, status=row.status)


def conversation(session: Session, case: Case) -> list[Line]:
    """What the resident wrote about the case and what was sent to them for it, by time (each once: the bot's
    late answers after a burst are the messages' own replies, not sends of the case)."""
    sends = session.scalars(
        select(Outbox).where(Outbox.openid == case.openid, Outbox.case_id == case.id)
        .order_by(Outbox.id).limit(LIMIT))
    writers = {f"{REPLY_KEY}:{case.id}:{e.id}": e.actor for e in case.events if e.kind == "reply"}
    lines = [line for row in _messages(session, case) for line in _inbound(row)]
    lines += [_send(row, writers) for row in sends]
    return sorted(lines, key=lambda line: line.at)
