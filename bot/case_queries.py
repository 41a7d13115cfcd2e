"""Read-only questions about a resident's cases (latest open, duplicate, list)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Case

OPEN_STATUSES = ("open", "in_progress")
DUPLICATE_WINDOW = timedelta(hours=24)


def latest_open(session: Session, openid: str) -> Case | None:
    """The resident's most recent case that is still open or in progress."""
    return session.scalars(
        select(Case).where(Case.openid == openid, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.created_at.desc(), Case.id.desc()).limit(1)
    ).first()


def duplicate_of(session: Session, openid: str, intent: str, now: datetime) -> Case | None:
    """The resident's open case of the same intent from the last 24 hours, if any."""
    return session.scalars(
        select(Case).where(Case.openid == openid, Case.intent == intent, Case.status.in_(OPEN_STATUSES),
                           Case.created_at >= now - DUPLICATE_WINDOW)
        .order_by(Case.id.desc()).limit(1)
    ).first()


def of_resident(session: Session, openid: str, limit: int = 10) -> list[Case]:
    """The resident's latest cases, newest first."""
    return list(session.scalars(
        select(Case).where(Case.openid == openid).order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)
    ).all())
