"""A case's conversation: the resident's messages around the case, the bot's replies, and sends to them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.constants import RESIDENT_PURPOSES, Purpose
from bot.storage.models import Case, InboundMessage, Outbox

BEFORE = timedelta(hours=6)  # the dialogue that led to the case
LIMIT = 200


@dataclass(frozen=True)
class Line:
    """One line of the conversation; who is resident|bot|staff, kind is text|image|... or the send purpose."""

    at: datetime
    who: str
    kind: str
    text: str
    status: str | None = None
    url: str | None = None


def _inbound(row: InboundMessage) -> list[Line]:
    lines = []
    if row.msg_type != "event":
        url = (row.raw or {}).get("PicUrl") if row.msg_type == "image" else None
        lines.append(Line(row.received_at, "resident", row.msg_type, row.content or row.media_id or "", url=url))
    if row.reply:
        lines.append(Line(row.handled_at or row.received_at, "bot", "reply", row.reply))
    return lines


def conversation(session: Session, case: Case) -> list[Line]:
    """What the resident wrote from shortly before the case on, and what was sent to them, by time."""
    start = case.created_at - BEFORE
    inbound = session.scalars(
        select(InboundMessage).where(InboundMessage.openid == case.openid, InboundMessage.received_at >= start)
        .order_by(InboundMessage.id).limit(LIMIT))
    sends = session.scalars(
        select(Outbox).where(Outbox.openid == case.openid, Outbox.created_at >= start,
                             Outbox.purpose.in_(RESIDENT_PURPOSES))
        .order_by(Outbox.id).limit(LIMIT))
    lines = [line for row in inbound for line in _inbound(row)]
    lines += [Line(row.created_at, "staff" if row.purpose == Purpose.REPLY else "bot", row.purpose,
                   (row.payload or {}).get("text") or "", status=row.status) for row in sends]
    return sorted(lines, key=lambda line: line.at)
