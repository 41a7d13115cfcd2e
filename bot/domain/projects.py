"""Renovation projects (老旧小区整治): category, affected places, phases, the responsible unit, linked cases.

A project touches compounds (all or some of their buildings) and back alleys. The scheduler
(scheduler/consult_jobs.py) sends a works notice to the residents of its places a few days
before each phase; a 施工扰民 complaint from an affected place during a phase becomes a case
linked to the project and routed to its responsible unit (routing.yaml, situation "project").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.clock import to_local
from bot.constants import OutboxStatus, Priority, Purpose
from bot.domain.cases import create_case
from bot.domain.directory import building_name, rows
from bot.domain.routing import decide
from bot.errors import ImportFileError, MulinError, NotFound
from bot.messaging import outbox
from bot.messaging.texts import render_text
from bot.storage.models import Case, Compound, Outbox, Project, ProjectCase, ProjectPhase, ProjectPlace, Resident


class Category(StrEnum):
    """The street's seven kinds of renovation project."""

    DISTURBANCE = "施工扰民类"
    ENVIRONMENT = "环境提升类"
    TRAFFIC = "交通疏堵类"
    OLD_COMPOUND = "老旧小区综合改造类"
    INFRASTRUCTURE = "基础设施完善类"
    PARKING = "停车秩序类"
    DEMOLITION = "拆违腾退类"


CATEGORIES = tuple(c.value for c in Category)
STATUSES = ("active", "suspended", "cancelled")
NOTICE_LEAD = timedelta(days=3)  # residents hear of a phase this long before it starts
WORKS_INTENT = "works"  # a 施工扰民 complaint about a project's site
PROJECT_SITUATION = "project"  # routing.yaml's situation for a place a phase is working on


class InvalidProject(MulinError):
    """A project that cannot be created as asked."""


@dataclass(frozen=True)
class PhasePlan:
    """A phase as given: name and local calendar dates (both inclusive)."""

    name: str
    starts_on: date
    ends_on: date


def parse_phase(text: str) -> PhasePlan:
    """'名称,YYYY-MM-DD,YYYY-MM-DD' as a phase; InvalidProject when it is not one."""
    parts = [p.strip() for p in text.replace("\uff0c", ",").split(",")]
    if len(parts) != 3 or not parts[0]:
        raise InvalidProject("project_phase_format", phase=text)
    try:
        starts, ends = date.fromisoformat(parts[1]), date.fromisoformat(parts[2])
    except ValueError:
        raise InvalidProject("project_phase_format", phase=text) from None
    if ends < starts:
        raise InvalidProject("project_phase_order", phase=parts[0])
    return PhasePlan(parts[0], starts, ends)


def _places(session: Session, compound: str | None, buildings: list[str] | None,
            alleys: list[str] | None) -> list[ProjectPlace]:
    places = [ProjectPlace(alley=a.strip()) for a in alleys or [] if a.strip()]
    if compound is None:
        if buildings:
            raise InvalidProject("notice_buildings_need_compound")
        if not places:
            raise InvalidProject("project_no_place")
        return places
    found = session.scalars(select(Compound).where(Compound.name == compound)).one_or_none()
    if found is None:
        raise NotFound("compound_not_found", name=compound)
    names = sorted({b.strip() for b in buildings or [] if b.strip()}, key=lambda n: (len(n), n))
    by_name = {b.name: b for b in found.buildings}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise NotFound("buildings_not_found", compound=compound, buildings="、".join(unknown))
    if not names:
        return [ProjectPlace(compound_id=found.id), *places]
    return [*(ProjectPlace(compound_id=found.id, building_id=by_name[n].id) for n in names), *places]


def create_project(session: Session, *, name: str, category: str, compound: str | None,
                   buildings: list[str] | None, alleys: list[str] | None, unit: str, contact: str,
                   phases: list[PhasePlan], actor: str, now: datetime,
                   unit_openids: list[str] | None = None) -> Project:
    """Store a project with its places and phases (in date order)."""
    if category not in CATEGORIES:
        raise InvalidProject("project_category", categories="、".join(CATEGORIES))
    if not name.strip() or not unit.strip() or not contact.strip():
        raise InvalidProject("project_fields")
    if not phases:
        raise InvalidProject("project_no_phase")
    project = Project(name=name.strip(), category=category, unit=unit.strip(), contact=contact.strip(),
                      unit_openids=[o.strip() for o in unit_openids or [] if o.strip()],
                      status="active", created_by=actor, created_at=now)
    project.places = _places(session, compound, buildings, alleys)
    ordered = sorted(phases, key=lambda p: (p.starts_on, p.ends_on))
    project.phases = [ProjectPhase(position=i + 1, name=p.name, starts_on=p.starts_on, ends_on=p.ends_on)
                      for i, p in enumerate(ordered)]
    session.add(project)
    session.flush()
    return project


PROJECT_HEADER = ("name", "category", "compound", "buildings", "unit", "contact", "phase", "starts_on", "ends_on")


def import_projects(session: Session, source: Path | str, *, actor: str, now: datetime) -> dict[str, int]:
    """Projects from a CSV file, one row per phase (rows with the same name are one project; its first row
    gives the other columns; optional columns alleys and unit_openids). A name already known is skipped."""
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in rows(source, PROJECT_HEADER):
        if not row["name"]:
            raise ImportFileError("import_empty", line=line, column="name")
        groups.setdefault(row["name"], []).append((line, row))
    known = set(session.scalars(select(Project.name).where(Project.name.in_(groups))))
    counts = {"created": 0, "skipped": 0}
    for name, lines in groups.items():
        if name in known:
            counts["skipped"] += 1
            continue
        _import_one(session, name, lines, actor, now)
        counts["created"] += 1
    return counts


def _import_one(session: Session, name: str, lines: list[tuple[int, dict[str, str]]], actor: str,
                now: datetime) -> None:
    """One project from its rows; ImportFileError names the line at fault."""
    line, first = lines[0]
    phases = []
    for at, row in lines:
        try:
            phases.append(parse_phase(f"{row['phase']},{row['starts_on']},{row['ends_on']}"))
        except MulinError as exc:
            raise ImportFileError("import_line", line=at, reason=str(exc)) from None
    try:
        create_project(session, name=name, category=first["category"], compound=first["compound"] or None,
                       buildings=[building_name(b) for b in _list(first["buildings"]) or []],
                       alleys=_list(first.get("alleys")), unit=first["unit"], contact=first["contact"],
                       unit_openids=_list(first.get("unit_openids")), phases=phases, actor=actor, now=now)
    except MulinError as exc:
        raise ImportFileError("import_line", line=line, reason=str(exc)) from None


def _list(value: str | None) -> list[str] | None:
    """A comma-separated cell (Chinese commas too) as a list, or None when empty."""
    items = [v.strip() for v in (value or "").replace("\uff0c", ",").replace("\u3001", ",").split(",")]
    return [v for v in items if v] or None


def get_project(session: Session, project_id: int) -> Project:
    """The project with this id, or NotFound."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("project_not_found", id=project_id)
    return project


def set_status(session: Session, project_id: int, status: str) -> Project:
    """Suspend, cancel or resume a project: only an active one sends works notices and takes complaints."""
    if status not in STATUSES:
        raise InvalidProject("project_status", statuses="、".join(STATUSES))
    project = get_project(session, project_id)
    project.status = status
    if status != "active":  # like a cancelled notice: works notices not yet sent are not sent
        session.execute(update(Outbox).where(Outbox.key.startswith(f"project:{project.id}:phase:"),
                                             Outbox.status == OutboxStatus.PENDING)
                        .values(status=OutboxStatus.CANCELLED))
    session.flush()
    return project


def list_projects(session: Session) -> list[Project]:
    """Every project, newest first."""
    return list(session.scalars(select(Project).order_by(Project.id.desc())))


def today(now: datetime) -> date:
    """The calendar day in Beijing at `now` (phases are local dates)."""
    return to_local(now).date()


def current_phase(project: Project, day: date) -> ProjectPhase | None:
    """The phase under way on this day, if any."""
    return next((p for p in project.phases if p.starts_on <= day <= p.ends_on), None)


def next_phase(project: Project, day: date) -> ProjectPhase | None:
    """The first phase that has not started by this day, if any."""
    return next((p for p in project.phases if p.starts_on > day), None)


def stage(project: Project, day: date) -> str:
    """planned (before the first phase), works (a phase under way), paused (between phases) or done."""
    if project.status != "active":
        return project.status
    if current_phase(project, day) is not None:
        return "works"
    if all(p.ends_on < day for p in project.phases):
        return "done"
    return "planned" if all(p.starts_on > day for p in project.phases) else "paused"


def affecting(session: Session, resident: Resident) -> list[Project]:
    """Active projects whose places include the resident's building (or their whole compound)."""
    if resident.compound_id is None:
        return []
    whole = ProjectPlace.building_id.is_(None)
    here = or_(whole, ProjectPlace.building_id == resident.building_id) if resident.building_id else whole
    ids = select(ProjectPlace.project_id).where(ProjectPlace.compound_id == resident.compound_id, here)
    return list(session.scalars(select(Project).where(Project.id.in_(ids), Project.status == "active")
                                .order_by(Project.id)))


def targets(project: Project) -> list[dict[str, Any]]:
    """Notice targets (as bot.domain.notices reads them) for the project's compounds and buildings."""
    per_compound: dict[int, tuple[Compound, list[str] | None]] = {}
    for place in project.places:
        if place.compound is None:
            continue  # an alley has no registered residents
        compound, names = per_compound.get(place.compound.id, (place.compound, []))
        if place.building is None or names is None:
            per_compound[compound.id] = (compound, None)  # the whole compound
        else:
            per_compound[compound.id] = (compound, [*names, place.building.name])
    return [{"community": c.community.name, "compound": c.name, "buildings": names}
            for c, names in per_compound.values()]


def phases_to_announce(session: Session, now: datetime) -> list[ProjectPhase]:
    """Phases of active projects that start within NOTICE_LEAD (or have started, not ended) and were not announced."""
    day = today(now)
    return list(session.scalars(
        select(ProjectPhase).join(Project, Project.id == ProjectPhase.project_id)
        .where(Project.status == "active", ProjectPhase.notified_at.is_(None),
               ProjectPhase.starts_on <= day + NOTICE_LEAD, ProjectPhase.ends_on >= day)
        .order_by(ProjectPhase.starts_on, ProjectPhase.id)))


def place_text(project: Project) -> str:
    """The places a project touches, for people."""
    return render_text("project/places", places=project.places)


def works_notice_text(project: Project, phase: ProjectPhase) -> str:
    """The works notice residents receive before a phase."""
    return render_text("project/works_notice", p=project, phase=phase, places=place_text(project),
                       category=project.category)


def cases_of(session: Session, project: Project) -> list[Case]:
    """The cases linked to the project, oldest first."""
    return list(session.scalars(select(Case).join(ProjectCase, ProjectCase.case_id == Case.id)
                                .where(ProjectCase.project_id == project.id).order_by(Case.id)))


def open_works_case(session: Session, project: Project, phase: ProjectPhase, resident: Resident, text: str,
                    now: datetime) -> Case:
    """A 施工扰民 complaint: a case linked to the project, routed to its unit, the unit's people told."""
    # routing.yaml decides (situation "project": the responsible unit, 24 h); the unit's people named on the
    # project are told below, staff of department "project" (or, with none, the community) by create_case
    decision = decide(WORKS_INTENT, Priority.NORMAL, PROJECT_SITUATION, text)
    case = create_case(session, openid=resident.openid, text=text, intent=WORKS_INTENT, priority=Priority.NORMAL,
                       also=(), resident=resident, now=now, decision=decision)
    session.add(ProjectCase(project_id=project.id, case_id=case.id, phase_id=phase.id, created_at=now))
    message = render_text("project/unit_case", case=case, p=project, phase=phase,
                          place=render_text("intake/place", compound=case.compound.name if case.compound else "",
                                            building=case.building.name if case.building else "",
                                            unit=case.unit or "", room=case.room or ""))
    for openid in project.unit_openids:
        outbox.enqueue(session, key=f"staff:{case.id}:project-unit:new:{openid}", openid=openid,
                       purpose=Purpose.STAFF, text=message, now=now, case_id=case.id)
    session.flush()
    return case

