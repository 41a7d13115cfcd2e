"""Consultations (议事, 征求意见): a question with two to six options put to some buildings until an end time.

The scheduler (scheduler/consult_jobs.py) sends the question through the outbox to the residents a
notice to the same target would reach, and the results to the participants once it closes. Each
resident's current answer is one row; a household (building, unit, room) counts once, with its
latest answer. A resident whose room is unknown is a household of their own.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.domain import message_facts
from bot.domain.notices import recipients_of, resolve_target
from bot.errors import MulinError, NotFound
from bot.messaging.texts import render_text
from bot.storage.models import Building, Compound, Consultation, ConsultationReply, Outbox, Resident, table_of

MIN_OPTIONS, MAX_OPTIONS = 2, 6
OPTION_MAX_CHARS = 20


class InvalidConsultation(MulinError):
    """A consultation that cannot be created as asked."""


def ask_key(consultation_id: int, openid: str) -> str:
    """The outbox key of the question sent to one resident (its existence means they were asked)."""
    return f"consult:{consultation_id}:ask:{openid}"


def result_key(consultation_id: int, openid: str) -> str:
    """The outbox key of the results message to one participant."""
    return f"consult:{consultation_id}:result:{openid}"


def household_of(openid: str, building_id: int | None, unit: str | None, room: str | None) -> str:
    """The household an answer counts for: the flat when the room is known, else the resident alone."""
    if building_id is not None and room:
        return f"flat:{building_id}:{unit or ''}:{room}"
    return f"resident:{openid}"


def _options(options: list[str]) -> list[str]:
    cleaned = [o.strip() for o in options if o.strip()]
    if not MIN_OPTIONS <= len(cleaned) <= MAX_OPTIONS:
        raise InvalidConsultation("consult_options_count", low=MIN_OPTIONS, high=MAX_OPTIONS)
    if len(set(cleaned)) != len(cleaned):
        raise InvalidConsultation("consult_options_repeat")
    if any(len(o) > OPTION_MAX_CHARS for o in cleaned):
        raise InvalidConsultation("consult_option_long", length=OPTION_MAX_CHARS)
    if any(o.isdigit() for o in cleaned):
        raise InvalidConsultation("consult_option_number")
    return cleaned


def create_consultation(session: Session, *, compound: str | None, community: str | None,
                        buildings: list[str] | None, question: str, options: list[str],
                        closes_at: datetime, actor: str, now: datetime) -> Consultation:
    """Store a new consultation (naive-UTC closes_at); the scheduler sends it at once."""
    if not question.strip():
        raise InvalidConsultation("consult_question_empty")
    if closes_at <= now:
        raise InvalidConsultation("consult_time_passed")
    consultation = Consultation(
        question=question.strip(), options=_options(options), closes_at=closes_at,
        target=resolve_target(session, compound, community, buildings),
        status="active", created_by=actor, created_at=now,
    )
    session.add(consultation)
    session.flush()
    return consultation


def get_consultation(session: Session, consultation_id: int) -> Consultation:
    """The consultation with this id, or NotFound."""
    found = session.get(Consultation, consultation_id, populate_existing=True)
    if found is None:
        raise NotFound("consult_not_found", id=consultation_id)
    return found


def list_consultations(session: Session) -> list[Consultation]:
    """Every consultation, newest first."""
    return list(session.scalars(select(Consultation).order_by(Consultation.id.desc())))


def asked(session: Session, openid: str, now: datetime) -> tuple[Consultation, datetime] | None:
    """The open consultation most recently put to this resident, with when it was put; None when none is open."""
    if message_facts.none(session, openid, "consultation", now):
        return None  # none open at all: known from the message's facts
    open_ids = session.scalars(select(Consultation.id).where(
        Consultation.status == "active", Consultation.closes_at > now,
        Consultation.fanned_out_at.is_not(None))).all()
    if not open_ids:
        return None
    keys = {ask_key(cid, openid): cid for cid in open_ids}
    row = session.execute(select(Outbox.key, Outbox.created_at).where(Outbox.key.in_(keys))
                          .order_by(Outbox.created_at.desc(), Outbox.id.desc()).limit(1)).first()
    if row is None:
        return None
    return get_consultation(session, keys[row.key]), row.created_at


def _upsert(session: Session) -> Insert:
    """INSERT … ON CONFLICT (consultation, resident) DO UPDATE: the resident's latest answer replaces theirs."""
    table = table_of(ConsultationReply)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    return cast(Insert, statement.on_conflict_do_update(
        index_elements=["consultation_id", "openid"],
        set_={"choice": statement.excluded.choice, "household": statement.excluded.household,
              "building_id": statement.excluded.building_id, "answered_at": statement.excluded.answered_at,
              "changes": table.c.changes + 1},
    ))


def record_reply(session: Session, consultation: Consultation, resident: Resident, choice: int,
                 now: datetime) -> int | None:
    """Store the resident's answer (1-based option number), replacing theirs; returns the earlier choice."""
    if not 1 <= choice <= len(consultation.options):
        raise InvalidConsultation("consult_choice", high=len(consultation.options))
    previous = session.scalar(select(ConsultationReply.choice).where(
        ConsultationReply.consultation_id == consultation.id, ConsultationReply.openid == resident.openid))
    household = household_of(resident.openid, resident.building_id, resident.unit, resident.room)
    session.connection().execute(_upsert(session), {
        "consultation_id": consultation.id, "openid": resident.openid, "household": household,
        "building_id": resident.building_id, "choice": choice, "answered_at": now, "changes": 0})
    return previous


@dataclass(frozen=True)
class Tally:
    """Answers per option (index 0 = option 1) for one group of households: a building, or all of them."""

    building: str  # the building's name, "" for the whole target (or residents with no building)
    counts: list[int]
    answered: int
    targeted: int
    compound: str = ""  # the building's compound (they differ in a community-wide consultation)

    @property
    def turnout(self) -> float | None:
        """Households that answered per household asked."""
        return self.answered / self.targeted if self.targeted else None

    def share(self, index: int) -> float | None:
        """The share of the answering households that chose option index+1."""
        return self.counts[index] / self.answered if self.answered else None


@dataclass(frozen=True)
class Results:
    """A consultation's results: overall and per building, with turnout."""

    consultation: Consultation
    overall: Tally
    buildings: list[Tally] = field(default_factory=list)
    participants: int = 0


Place = tuple[str, str]  # (compound name, building name); ("", "") for a resident with no building


def _targeted(session: Session, consultation: Consultation) -> dict[str, Place]:
    """Household -> its building, for the households the consultation reaches now."""
    query = (recipients_of(consultation.target)
             .add_columns(Resident.building_id, Resident.unit, Resident.room, Compound.name, Building.name)
             .outerjoin(Building, Building.id == Resident.building_id)
             .outerjoin(Compound, Compound.id == Building.compound_id))
    return {household_of(r[0], r[1], r[2], r[3]): (r[4] or "", r[5] or "") for r in session.execute(query)}


def tally(session: Session, consultation: Consultation) -> Results:
    """Count each household's latest answer, overall and per building (10,000 answers: one read, in memory)."""
    targeted = _targeted(session, consultation)
    rows = session.execute(
        select(ConsultationReply.household, ConsultationReply.choice, Compound.name, Building.name)
        .outerjoin(Building, Building.id == ConsultationReply.building_id)
        .outerjoin(Compound, Compound.id == Building.compound_id)
        .where(ConsultationReply.consultation_id == consultation.id)
        .order_by(ConsultationReply.answered_at, ConsultationReply.id)).all()
    latest: dict[str, tuple[int, Place]] = {}
    for household, choice, compound, building in rows:  # later rows overwrite earlier ones: the latest stands
        latest[household] = (choice, (compound or "", building or ""))
    households = dict(targeted)
    for household, (_, place) in latest.items():  # an answer counts even if its resident has since left
        households.setdefault(household, place)
    size = len(consultation.options)
    asked: dict[Place, int] = {}
    for place in households.values():
        asked[place] = asked.get(place, 0) + 1
    overall = [0] * size
    per_building = {place: [0] * size for place in asked}
    for choice, place in latest.values():
        overall[choice - 1] += 1
        per_building[place][choice - 1] += 1
    order = sorted(per_building, key=lambda p: (p[1] == "", p[0], len(p[1]), p[1]))
    buildings = [Tally(p[1], per_building[p], sum(per_building[p]), asked[p], compound=p[0]) for p in order]
    return Results(consultation, Tally("", overall, len(latest), len(households)), buildings,
                   participants=len(rows))


def results_csv(results: Results) -> str:
    """The results as CSV: one row per building and one for the whole target (UTF-8 with BOM for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*render_text("consult/csv_header").split(","), *results.consultation.options])
    whole = results.consultation.target.get("compound") is None
    for t in [*results.buildings, results.overall]:
        name = render_text("consult/building", t=t, whole=whole, total=t is results.overall)
        turnout = f"{t.turnout:.1%}" if t.turnout is not None else ""
        writer.writerow([name, t.targeted, t.answered, turnout, *t.counts])
    return "\ufeff" + out.getvalue()


def question_text(consultation: Consultation, contact: str, closes: str) -> str:
    """The question as residents read it."""
    return render_text("consult/question", c=consultation, place=_place(consultation.target),
                       closes=closes, contact=contact)


def results_text(results: Results) -> str:
    """The results message participants receive when the consultation closes."""
    return render_text("consult/results_message", r=results, c=results.consultation,
                       place=_place(results.consultation.target))


def _place(target: dict[str, Any]) -> str:
    return render_text("consult/place", t=target)
