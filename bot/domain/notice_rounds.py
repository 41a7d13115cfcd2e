"""A notice's rounds (one per offset: 7 days, 1 day before): when each goes, and how its deliveries stand,
for the console's notice page. The next send time takes the quiet hours into account (scheduler/notice_jobs.py
fans nothing out in them)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.constants import NoticeStatus, OutboxStatus
from bot.domain.quiet_hours import QuietHours
from bot.storage.models import Notice, Outbox


@dataclass(frozen=True)
class Round:
    """One offset: planned time, state (waiting|sent|skipped|cancelled) and its deliveries by status."""

    offset: int  # minutes before the cleanup
    planned_at: datetime
    state: str
    targeted: int
    pending: int
    sent: int
    failed: int
    cancelled: int
    reasons: tuple[tuple[str, int], ...] = ()  # why sends failed: (errcode and message, how many), most first


def next_send_at(notice: Notice, now: datetime, quiet: QuietHours) -> datetime | None:
    """When the next round goes out (None: none will), quiet hours respected."""
    if notice.status != NoticeStatus.ACTIVE:
        return None
    waiting = [notice.cleanup_at - timedelta(minutes=m) for m in notice.offsets if m not in notice.fanned_out]
    if not waiting:
        return None
    at = quiet.next_allowed(max(now, min(waiting)))
    return at if at < notice.cleanup_at else None


def rounds(session: Session, notice: Notice, targeted: int) -> list[Round]:
    """Each offset of the notice, earliest first; `targeted` is who a round not yet fanned out would reach."""
    counts: dict[tuple[int | None, str], int] = {
        (offset, status): n for offset, status, n in session.execute(
            select(Outbox.notice_offset, Outbox.status, func.count()).where(Outbox.notice_id == notice.id)
            .group_by(Outbox.notice_offset, Outbox.status)).all()}
    reasons: dict[int | None, list[tuple[str, int]]] = {}
    for offset, code, error, n in session.execute(
            select(Outbox.notice_offset, Outbox.errcode, Outbox.error, func.count())
            .where(Outbox.notice_id == notice.id, Outbox.status == OutboxStatus.FAILED)
            .group_by(Outbox.notice_offset, Outbox.errcode, Outbox.error).order_by(func.count().desc())):
        reasons.setdefault(offset, []).append((f"{code if code is not None else ''} {error or ''}".strip(), n))
    out = []
    for m in sorted(notice.offsets, reverse=True):
        mine = {status: n for (offset, status), n in counts.items() if offset == m}
        made = sum(mine.values())
        if m in notice.fanned_out:
            state = "sent" if made else "skipped"
        else:
            state = "waiting" if notice.status == NoticeStatus.ACTIVE else "cancelled"
        out.append(Round(
            offset=m, planned_at=notice.cleanup_at - timedelta(minutes=m), state=state,
            targeted=made if m in notice.fanned_out else (targeted if state == "waiting" else 0),
            pending=mine.get(OutboxStatus.PENDING, 0) + mine.get(OutboxStatus.SENDING, 0),
            sent=mine.get(OutboxStatus.SENT, 0), failed=mine.get(OutboxStatus.FAILED, 0),
            cancelled=mine.get(OutboxStatus.CANCELLED, 0), reasons=tuple(reasons.get(m, ()))))
    return out
