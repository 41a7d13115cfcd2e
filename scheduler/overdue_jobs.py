"""Overdue reminders: the department at 80% of the time limit, supervisors past it.

"Without being accepted or resolved": the 80% warning goes out while the case has no
first response (not accepted, not resolved); the escalation while it is still open or in
progress after its due time. Each happens once per case (warned_at / escalated_at; a
reopened case starts afresh because the reopen transition clears both).

A 特急 case's reminder is sent at once; any other is held (outbox status HELD) and told in the recipient's
next summary with the other staff alerts (scheduler/staff_alert_jobs.py), so a morning of overdue cases is
one message per person, not one per case.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.clock import fmt_local
from bot.constants import OPEN_STATUSES, CaseStatus, Department, OutboxStatus, Priority, Purpose
from bot.domain.cases import add_event, place
from bot.messaging import outbox
from bot.messaging.texts import label, render_text
from bot.services import services
from bot.storage.models import Case, Staff

SUPERVISOR = Department.SUPERVISOR
SUMMARY_CHARS = 40


def _staff(session: Session, department: str, community_id: int | None) -> list[Staff]:
    return list(session.scalars(select(Staff).where(
        Staff.department == department, or_(Staff.community_id.is_(None), Staff.community_id == community_id))
        .order_by(Staff.id)))


def _tell(session: Session, case: Case, members: list[Staff], step: str, now: datetime, **extra: Any) -> None:
    summary = case.text if len(case.text) <= SUMMARY_CHARS else case.text[:SUMMARY_CHARS] + "…"
    text = render_text(f"overdue/{step}", case=case, intent=label("intent", case.intent), place=place(case),
                       department=label("department", case.department), summary=summary,
                       due=fmt_local(case.due_at), **extra)
    status = OutboxStatus.PENDING if case.priority == Priority.CRITICAL else OutboxStatus.HELD
    for member in members:
        outbox.enqueue(session, key=f"overdue:{case.id}:{case.reopen_count}:{step}:{member.openid}",
                       openid=member.openid, purpose=Purpose.STAFF, text=text, now=now, case_id=case.id,
                       status=status)


def warn(session: Session, now: datetime, fraction: float) -> int:
    """Tell the department about unaccepted cases that have used `fraction` of their time."""
    cases = session.scalars(select(Case).where(
        Case.status == CaseStatus.OPEN, Case.first_response_at.is_(None), Case.resolved_at.is_(None),
        Case.warned_at.is_(None), Case.due_at > now)).all()
    count = 0
    for case in cases:
        limit = case.due_at - case.created_at
        if now < case.created_at + limit * fraction:
            continue
        case.warned_at = now
        _tell(session, case, _staff(session, case.department, case.community_id), "warn", now,
              percent=round(100 * (now - case.created_at) / limit))
        add_event(session, case, "overdue_warning", actor="scheduler", now=now)
        count += 1
    return count


def escalate(session: Session, now: datetime) -> int:
    """Tell the supervisors about cases past their time limit and still not resolved."""
    cases = session.scalars(select(Case).where(
        Case.status.in_(OPEN_STATUSES), Case.escalated_at.is_(None), Case.due_at <= now)).all()
    for case in cases:
        case.escalated_at = now
        _tell(session, case, _staff(session, SUPERVISOR, case.community_id), "escalate", now,
              hours=int((now - case.due_at).total_seconds() // 3600), accepted=case.first_response_at is not None)
        add_event(session, case, "overdue_escalated", actor="scheduler", now=now)
    return len(cases)


def run(app: Flask, now: datetime) -> dict[str, Any]:
    """Scheduler job: warnings and escalations due at `now`."""
    with services(app).sessions() as session:
        counts = {"warned": warn(session, now, float(app.config["OVERDUE_WARN_FRACTION"])),
                  "escalated": escalate(session, now)}
        session.commit()
    return counts
