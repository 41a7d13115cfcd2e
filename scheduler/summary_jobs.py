"""The weekly summary to the street's administrators (Staff of department "admin").

Once the configured weekday and hour (Asia/Shanghai; default Monday 09:00) have come, the
previous ISO week's figures (bot.domain.stats.compute over cases created that week) are sent to
every administrator; the outbox key carries the ISO week, so it goes out once per week.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.messaging import outbox

from bot.domain import stats
from bot.clock import LOCAL, to_local
from bot.constants import Department, Purpose
from bot.storage.models import Outbox, Staff
from bot.messaging.texts import render_text
from bot.services import services

ADMIN = Department.ADMIN


def due_week(now: datetime, weekday: int, hour: int) -> tuple[datetime, datetime] | None:
    """The previous week's [start, end) as naive UTC if this week's summary time has passed, else None."""
    local = to_local(now)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time(0), tzinfo=LOCAL)
    if local < monday + timedelta(days=weekday, hours=hour):
        return None
    return _utc(monday - timedelta(days=7)), _utc(monday)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def send_summary(session: Session, now: datetime, start: datetime, end: datetime, street: str) -> int:
    """Enqueue the week's summary to each administrator not yet sent it; returns how many."""
    year, week, _ = to_local(start).isocalendar()
    admins = session.scalars(select(Staff).where(Staff.department == ADMIN).order_by(Staff.id)).all()
    keys = {member.openid: f"summary:{year}-W{week:02d}:{member.openid}" for member in admins}
    done = session.scalar(select(func.count()).select_from(Outbox).where(Outbox.key.in_(keys.values()))) or 0
    if done == len(keys):
        return 0
    rates = stats.compute(session, start, end, now=now)
    text = render_text("summary/weekly", street=street, r=rates, week=week,
                       first=to_local(start).strftime("%Y-%m-%d"), last=to_local(end - timedelta(days=1)).strftime("%Y-%m-%d"))
    count = 0
    for openid, key in keys.items():
        if session.scalar(select(Outbox.id).where(Outbox.key == key)) is None:
            outbox.enqueue(session, key=key, openid=openid, purpose=Purpose.SUMMARY, text=text, now=now)
            count += 1
    return count


def run(app: Flask, now: datetime) -> dict[str, Any]:
    """Scheduler job: the weekly summary, once per ISO week."""
    week = due_week(now, int(app.config["SUMMARY_WEEKDAY"]), int(app.config["SUMMARY_HOUR"]))
    if week is None:
        return {"sent": 0}
    with services(app).sessions() as session:
        count = send_summary(session, now, *week, street=app.config["STREET_NAME"])
        session.commit()
    return {"sent": count}
