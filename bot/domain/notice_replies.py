"""Residents' replies to a cleanup notice that reached them: acknowledgements and questions.

A reply belongs to the latest notice sent to the resident (its outbox row sent) while the notice is
active and until some hours after its cleanup. An acknowledgement is recorded against the notice and
opens no case; a question is recorded with the case its community answers it on (the caller opens it).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.constants import OPEN_STATUSES, NoticeStatus, OutboxStatus
from bot.storage.models import Case, Notice, NoticeReply, Outbox

ACK, QUESTION = "ack", "question"
REACHED = (OutboxStatus.SENT, OutboxStatus.UNCERTAIN)  # an uncertain send may well have arrived


def reached(session: Session, openid: str, now: datetime, after_cleanup: timedelta) -> Notice | None:
    """The latest active notice sent to this resident whose reply window (until cleanup + after_cleanup) is open."""
    return session.scalars(
        select(Notice).join(Outbox, Outbox.notice_id == Notice.id)
        .where(Outbox.openid == openid, Outbox.status.in_(REACHED), Outbox.sent_at <= now,
               Notice.status == NoticeStatus.ACTIVE, Notice.cleanup_at >= now - after_cleanup)
        .order_by(Outbox.sent_at.desc(), Notice.id.desc()).limit(1)
    ).first()


def record(session: Session, notice: Notice, openid: str, kind: str, text: str, now: datetime,
           case_id: int | None = None) -> NoticeReply:
    """Store one reply against the notice."""
    reply = NoticeReply(notice_id=notice.id, openid=openid, kind=kind, text=text, case_id=case_id, created_at=now)
    session.add(reply)
    session.flush()
    return reply


def open_question_case(session: Session, notice: Notice, openid: str) -> Case | None:
    """The open case an earlier question of this resident about this notice is answered on, if any."""
    return session.scalars(
        select(Case).join(NoticeReply, NoticeReply.case_id == Case.id)
        .where(NoticeReply.notice_id == notice.id, NoticeReply.openid == openid, NoticeReply.kind == QUESTION,
               Case.status.in_(OPEN_STATUSES))
        .order_by(Case.id.desc()).limit(1)
    ).first()


def replies_of(session: Session, notice: Notice) -> list[NoticeReply]:
    """The notice's replies, oldest first."""
    return list(session.scalars(select(NoticeReply).where(NoticeReply.notice_id == notice.id)
                                .order_by(NoticeReply.id)))


def acknowledged(session: Session, notice: Notice) -> int:
    """How many residents acknowledged the notice."""
    return session.scalar(select(func.count(func.distinct(NoticeReply.openid)))
                          .where(NoticeReply.notice_id == notice.id, NoticeReply.kind == ACK)) or 0
