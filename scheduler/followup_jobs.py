"""Satisfaction follow-ups: ask after resolution, remind once, then close as 未评价.

A resident is asked about one case at a time (the oldest resolved first); the next is
asked once the current one is answered or expires. Each step sets a field on the case
and enqueues its message in the same transaction, with an idempotency key.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messaging import outbox
from bot.domain.cases import add_event, transition
from bot.clock import fmt_local
from bot.constants import AWAITING_ANSWER, CaseStatus, FollowupState, Purpose, Satisfaction
from bot.storage.models import Case
from bot.messaging.texts import label, render_text
from bot.services import services

NOT_RATED = Satisfaction.NOT_RATED
SUMMARY_CHARS = 20


def _message(session: Session, case: Case, step: str, now: datetime) -> None:
    summary = case.text if len(case.text) <= SUMMARY_CHARS else case.text[:SUMMARY_CHARS] + "…"
    text = render_text(f"followup/{step}", case=case, intent=label("intent", case.intent), summary=summary,
                       resolved=fmt_local(case.resolved_at))
    outbox.enqueue(session, key=f"followup:{case.id}:{case.reopen_count}:{step}", openid=case.openid,
                   purpose=Purpose.FOLLOWUP, text=text, now=now, case_id=case.id)


def expire(session: Session, now: datetime, after: timedelta) -> int:
    """Close reminded cases with no answer as 未评价."""
    cases = session.scalars(select(Case).where(
        Case.status == CaseStatus.RESOLVED, Case.followup_state == FollowupState.REMINDED,
        Case.followup_reminded_at <= now - after)).all()
    for case in cases:
        case.satisfaction, case.followup_state = NOT_RATED, FollowupState.EXPIRED
        transition(session, case, "close", actor="scheduler", now=now, note=NOT_RATED)
    return len(cases)


def remind(session: Session, now: datetime, after: timedelta) -> int:
    """Remind once those asked `after` ago without an answer."""
    cases = session.scalars(select(Case).where(
        Case.status == CaseStatus.RESOLVED, Case.followup_state == FollowupState.ASKED,
        Case.followup_asked_at <= now - after)).all()
    for case in cases:
        case.followup_state, case.followup_reminded_at = FollowupState.REMINDED, now
        _message(session, case, "remind", now)
        add_event(session, case, "followup_reminded", actor="scheduler", now=now)
    return len(cases)


def ask(session: Session, now: datetime, after: timedelta) -> int:
    """Ask about cases resolved `after` ago, one per resident at a time, oldest first."""
    busy = set(session.scalars(select(Case.openid).where(Case.status == CaseStatus.RESOLVED,
                                                         Case.followup_state.in_(AWAITING_ANSWER))))
    cases = session.scalars(select(Case).where(
        Case.status == CaseStatus.RESOLVED, Case.followup_asked_at.is_(None), Case.resolved_at <= now - after)
        .order_by(Case.resolved_at, Case.id)).all()
    count = 0
    for case in cases:
        if case.openid in busy:
            continue
        busy.add(case.openid)
        case.followup_state, case.followup_asked_at = FollowupState.ASKED, now
        _message(session, case, "ask", now)
        add_event(session, case, "followup_asked", actor="scheduler", now=now)
        count += 1
    return count


def run(app: Flask, now: datetime) -> dict[str, Any]:
    """Scheduler job: expire, remind, then ask (so a resident whose case expired is asked the next)."""
    def hours(name: str) -> timedelta:
        return timedelta(hours=float(app.config[name]))

    with services(app).sessions() as session:
        counts = {"expired": expire(session, now, hours("FOLLOWUP_EXPIRE_AFTER_HOURS")),
                  "reminded": remind(session, now, hours("FOLLOWUP_REMIND_AFTER_HOURS")),
                  "asked": ask(session, now, hours("FOLLOWUP_AFTER_HOURS"))}
        session.commit()
    return counts
