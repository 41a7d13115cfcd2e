"""Consultations and renovation projects on the clock: send questions, close and send results, works notices.

Like notices: every send is an outbox row with a unique key, bulk-inserted in the same commit
that marks the step done (a conditional UPDATE), so a crash or a second run never sends twice.
The rows are `notice` sends: paced and drained with the cleanup notices, same template.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from bot.clock import fmt_local
from bot.constants import Purpose
from bot.domain import consultations, projects
from bot.domain.notices import recipients_of
from bot.messaging import outbox
from bot.services import services
from bot.storage.models import Consultation, ConsultationReply, ProjectPhase, Resident

CHUNK = 1000  # rows per INSERT statement
PURPOSE = Purpose.NOTICE  # bulk (BULK_PURPOSES): drained by outbox_bulk at SEND_RATE_PER_SECOND


def _rows(keys_openids: list[tuple[str, str]], text: str, now: datetime) -> list[dict[str, Any]]:
    payload = {"text": text, "template_data": None}
    return [{"key": key, "openid": openid, "purpose": PURPOSE, "payload": payload, "status": "pending",
             "attempts": 0, "next_attempt_at": now, "created_at": now} for key, openid in keys_openids]


def _mark(session: Session, statement: Any) -> bool:
    """Run the conditional UPDATE that marks a step done; roll the step back when another run won."""
    if cast(CursorResult[Any], session.execute(statement)).rowcount != 1:
        session.rollback()
        return False
    session.commit()
    return True


def send_question(session: Session, consultation: Consultation, now: datetime, contact: str) -> int:
    """Create one question row per targeted resident; commits; returns rows created."""
    text = consultations.question_text(consultation, contact, fmt_local(consultation.closes_at))
    openids = session.scalars(recipients_of(consultation.target).order_by(Resident.id)).all()
    rows = _rows([(consultations.ask_key(consultation.id, o), o) for o in openids], text, now)
    outbox.enqueue_many(session, rows, CHUNK)
    done = update(Consultation).where(Consultation.id == consultation.id, Consultation.status == "active",
                                      Consultation.fanned_out_at.is_(None)).values(fanned_out_at=now)
    return len(rows) if _mark(session, done) else 0


def close(session: Session, consultation: Consultation, now: datetime) -> int:
    """Close a consultation whose end time passed and send the results to its participants; commits."""
    results = consultations.tally(session, consultation)
    text = consultations.results_text(results)
    openids = session.scalars(select(ConsultationReply.openid).where(
        ConsultationReply.consultation_id == consultation.id).order_by(ConsultationReply.id)).all()
    rows = _rows([(consultations.result_key(consultation.id, o), o) for o in openids], text, now)
    outbox.enqueue_many(session, rows, CHUNK)
    done = update(Consultation).where(Consultation.id == consultation.id, Consultation.status == "active"
                                      ).values(status="closed", closed_at=now)
    return len(rows) if _mark(session, done) else 0


def run(app: Flask, now: datetime) -> dict[str, Any]:
    """Scheduler job: questions of new consultations, results of ended ones, works notices of coming phases."""
    counts = {"questions": 0, "results": 0, "works_notices": 0}
    contact = app.config["STREET_CONTACT"]
    with services(app).sessions() as session:
        due = session.scalars(select(Consultation).where(Consultation.status == "active")
                              .order_by(Consultation.id)).all()
        for consultation in due:
            if consultation.closes_at <= now:
                counts["results"] += close(session, consultation, now)
            elif consultation.fanned_out_at is None:
                counts["questions"] += send_question(session, consultation, now, contact)
        for phase in projects.phases_to_announce(session, now):
            counts["works_notices"] += works_notice(session, phase, now)
    return counts



def works_notice(session: Session, phase: ProjectPhase, now: datetime) -> int:
    """Tell the residents of a project's places that a phase is about to start; commits; returns rows."""
    project = projects.get_project(session, phase.project_id)
    text = projects.works_notice_text(project, phase)
    openids: dict[str, None] = {}  # a resident reached through two places hears it once
    for target in projects.targets(project):
        openids.update(dict.fromkeys(session.scalars(recipients_of(target).order_by(Resident.id))))
    rows = _rows([(f"project:{project.id}:phase:{phase.id}:{o}", o) for o in openids], text, now)
    outbox.enqueue_many(session, rows, CHUNK)
    done = update(ProjectPhase).where(ProjectPhase.id == phase.id, ProjectPhase.notified_at.is_(None)
                                      ).values(notified_at=now)
    return len(rows) if _mark(session, done) else 0
