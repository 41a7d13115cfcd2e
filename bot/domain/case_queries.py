"""Read-only questions about a resident's cases (latest open, duplicate, list)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.constants import DONE_STATUSES, OPEN_STATUSES
from bot.domain import message_facts
from bot.storage.models import Case

DUPLICATE_WINDOW = timedelta(hours=24)
# a report that the problem is back or was never fixed reopens the case resolved this recently (not a new case)
RECURRENCE_WINDOW = timedelta(days=14)
# Hot queries are built once with bound parameters: SQLAlchemy then skips rebuilding and re-keying them.


_LATEST_OPEN = (
    select(Case).where(Case.openid == bindparam("openid"), Case.status.in_(OPEN_STATUSES))
    .order_by(Case.created_at.desc(), Case.id.desc()).limit(1)
)


def latest_open(session: Session, openid: str) -> Case | None:
    """The resident's most recent case that is still open or in progress."""
    return session.scalars(_LATEST_OPEN, {"openid": openid}).first()


_DUPLICATE = (
    select(Case).where(Case.openid == bindparam("openid"), Case.intent == bindparam("intent"),
                       Case.status.in_(OPEN_STATUSES), Case.created_at >= bindparam("since"))
    .order_by(Case.id.desc()).limit(1)
)


def duplicate_of(session: Session, openid: str, intent: str, now: datetime) -> Case | None:
    """The resident's open case of the same intent from the last 24 hours, if any."""
    if message_facts.none(session, openid, "open_case"):
        return None  # no open case at all: known from the message's facts
    return session.scalars(_DUPLICATE, {"openid": openid, "intent": intent, "since": now - DUPLICATE_WINDOW}).first()


def latest(session: Session, openid: str, intent: str | None = None) -> Case | None:
    """The resident's most recent case in any status, of one kind when `intent` is given."""
    query = select(Case).where(Case.openid == openid)
    if intent is not None:
        query = query.where(Case.intent == intent)
    return session.scalars(query.order_by(Case.created_at.desc(), Case.id.desc()).limit(1)).first()


def recently_resolved(session: Session, openid: str, intent: str, now: datetime) -> Case | None:
    """The resident's latest case of this kind when it is finished (resolved or closed) and was resolved within
    RECURRENCE_WINDOW."""
    case = latest(session, openid, intent)
    if case is None or case.status not in DONE_STATUSES or case.resolved_at is None:
        return None
    return case if now - case.resolved_at <= RECURRENCE_WINDOW else None


def of_resident(session: Session, openid: str, limit: int = 10) -> list[Case]:
    """The resident's latest cases, newest first."""
    return list(session.scalars(
        select(Case).where(Case.openid == openid).order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)
    ).all())


def opened_with(session: Session, case: Case) -> list[Case]:
    """The resident's other open cases the same message opened ("楼上漏水把电线泡了，插座冒火花": the emergency and
    the leak), which share its place: same resident, same moment."""
    return list(session.scalars(select(Case).where(
        Case.openid == case.openid, Case.created_at == case.created_at, Case.id != case.id,
        Case.status.in_(OPEN_STATUSES)).order_by(Case.id)))
