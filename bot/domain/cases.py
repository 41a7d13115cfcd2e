"""The case (工单) lifecycle: create, transition, reassign, audit events and notifications.

Functions flush, never commit: the webhook commits a handler's effects with its stored
reply, CLI commands and the console commit themselves.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, func, insert, literal_column, select, update
from sqlalchemy import case as case_when
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.clock import fmt_local
from bot.constants import OPEN_STATUSES, PRIORITIES, CaseStatus, Priority, Purpose
from bot.domain import message_facts
from bot.domain.case_notify import notify, notify_department, place
from bot.domain.case_numbers import next_number
from bot.domain.mulinfang_alerts import alert_group
from bot.domain.routing import Decision, route
from bot.errors import InvalidTransition, NotFound
from bot.messaging import outbox
from bot.messaging.texts import label, render_text
from bot.storage import static_rows
from bot.storage.db import as_loaded
from bot.storage.models import Case, CaseEvent, Community, Resident, User, table_of
from bot.storage.prepared import Prepared

LINK_WINDOW = timedelta(hours=24)
CARE_PRIORITY = Priority.HIGH  # 老弱病残 (接诉即办): a case of a resident to look after is at least 较急
# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[CaseStatus, ...], CaseStatus]] = {
    "accept": ((CaseStatus.OPEN,), CaseStatus.IN_PROGRESS),
    "resolve": (OPEN_STATUSES, CaseStatus.RESOLVED),
    "reopen": ((CaseStatus.RESOLVED, CaseStatus.CLOSED), CaseStatus.OPEN),
    "close": ((CaseStatus.RESOLVED,), CaseStatus.CLOSED),
    "cancel": ((CaseStatus.OPEN,), CaseStatus.CANCELLED),
}
TELL_RESIDENT = ("accept", "resolve", "reopen")


def add_event(session: Session, case: Case, kind: str, *, actor: str, now: datetime,
              note: str | None = None, data: dict[str, Any] | None = None) -> CaseEvent:
    """Append an audit event to the case: a Core INSERT after whatever the session still has to write (an event
    is on the path of most messages; without pending changes no flush runs, and the message's facts stay)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return _inserted(session, CaseEvent, _EVENTS, dict(case_id=case.id, kind=kind, actor=actor, note=note,
                                                         data=data, created_at=now))


def create_case(session: Session, *, openid: str, text: str, intent: str, priority: str,
                also: tuple[str, ...], resident: Resident, now: datetime, actor: str = "resident",
                decision: Decision | None = None, care: str | None = None) -> Case:
    """Open a routed case at the resident's address, link it to its building's reports, tell staff.
    `care`: who to look after ("独居、高龄"), shown to the staff with the case, which is then at least CARE_PRIORITY."""
    if care:
        priority = max(priority, CARE_PRIORITY, key=PRIORITIES.index)
    decision = decision or route(intent, priority, resident.building, text)  # given: routing.yaml for a project
    compound = resident.compound
    session.flush()  # as a query would (autoflush): the building's earlier reports are read in the INSERT
    case = _inserted_case(session, intent, now, dict(
        number=next_number(session, now), openid=openid, intent=intent, also=",".join(also) or None,
        priority=priority, department=decision.department, status=CaseStatus.OPEN, text=text,
        community_id=compound.community_id if compound else None, compound_id=resident.compound_id,
        building_id=resident.building_id, unit=resident.unit, room=resident.room,
        created_at=now, due_at=now + decision.time_limit, reopen_count=0, handoff=False, care=care,
    ))
    created = _inserted(session, CaseEvent, _EVENTS, dict(
        case_id=case.id, kind="created", actor=actor, note=None, created_at=now,
        data={"department": case.department, "inform": list(decision.inform), "group_id": case.group_id}))
    set_committed_value(case, "events", [created])
    # the case's places as the resident's (this process's copy of the directory): no lazy SELECT for them later
    set_committed_value(case, "compound", compound)
    set_committed_value(case, "building", resident.building)
    set_committed_value(case, "community", static_rows.attach_read(session, Community, case.community_id))
    message_facts.forget(session, openid, "open_case")
    set_committed_value(created, "case", case)
    notify_department(session, case, now)
    alert_group(session, case, now)  # the building's 睦邻坊, for the kinds its community chose
    for department in decision.inform:
        notify(session, case, department, now, "inform")
    return case


_CASES, _EVENTS = table_of(Case), table_of(CaseEvent)
_INSERTS = {table: Prepared(insert(table).returning(table.c.id), [c.key for c in table.columns if c.key != "id"])
            for table in (_CASES, _EVENTS)}
_Row = TypeVar("_Row", Case, CaseEvent)


def _inserted(session: Session, cls: type[_Row], table: Table, values: dict[str, Any]) -> _Row:
    """A Core INSERT of a new row (a case or its event, on the hot path of every report: the ORM's unit of work
    costs more than the statement), then the same row as a loaded ORM object in the session, no SELECT."""
    values = {column.key: None for column in table.columns if column.key != "id"} | values
    (inserted,), = _INSERTS[table].rows(session.connection(), values)  # prepared: no ORM or Core execute
    return as_loaded(session, cls, {"id": inserted, **values})


_EARLIER = _CASES.alias("earlier")
# the first report of the same intent from the same building in the last 24 h (LINK_WINDOW), first in the order of
# ix_cases_building_intent_created: found without sorting every report of the building (a flood from one building)
_SAME_PLACE = (_EARLIER.c.building_id == bindparam("same_building"), _EARLIER.c.intent == bindparam("same_intent"),
               _EARLIER.c.created_at >= bindparam("since"), _EARLIER.c.status != CaseStatus.CANCELLED)
_GROUP_OF_EARLIER = (select(func.coalesce(_EARLIER.c.group_id, _EARLIER.c.id)).where(*_SAME_PLACE)
                     .order_by(_EARLIER.c.created_at, _EARLIER.c.id).limit(1).scalar_subquery())
# after the INSERT: that first report's id when it was on its own (it becomes the first of the group). The new
# row spelled out: SQLite's compiler writes the INSERT's own columns without their table in RETURNING.
_UNLINKED = (select(case_when((_EARLIER.c.group_id.is_(None), _EARLIER.c.id)))
             .where(*_SAME_PLACE, _EARLIER.c.id < literal_column(f"{_CASES.name}.id"))
             .order_by(_EARLIER.c.created_at, _EARLIER.c.id).limit(1).scalar_subquery())
_INSERT_CASE = Prepared(insert(_CASES).values(group_id=_GROUP_OF_EARLIER)
                        .returning(_CASES.c.id, _CASES.c.group_id, _UNLINKED.label("unlinked")),
                        [c.key for c in _CASES.columns if c.key not in ("id", "group_id")])
_LINK = update(_CASES).where(_CASES.c.id == bindparam("case_id")).values(group_id=_CASES.c.id)


def _inserted_case(session: Session, intent: str, now: datetime, values: dict[str, Any]) -> Case:
    """The case's Core INSERT, which also links it to the first report of the same intent from the same building
    in the last 24 h (that report's group, which starts with it when it was on its own): one statement on the
    usual path, a second only when a group starts."""
    values = {column.key: None for column in _CASES.columns if column.key not in ("id", "group_id")} | values
    (case_id, group_id, unlinked), = _INSERT_CASE.rows(session.connection(), {
        **values, "same_building": values["building_id"], "same_intent": intent, "since": now - LINK_WINDOW})
    if unlinked is not None:
        session.connection().execute(_LINK, {"case_id": unlinked})
        loaded = session.identity_map.get(session.identity_key(Case, unlinked))
        if loaded is not None:
            set_committed_value(loaded, "group_id", unlinked)
    return as_loaded(session, Case, {"id": case_id, "group_id": group_id, **values})


def transition(session: Session, case: Case, action: str, *, actor: str, now: datetime,
               note: str | None = None, tell_resident: bool = True) -> Case:
    """Change the case's status; InvalidTransition when the lifecycle forbids it. `tell_resident` False: the
    caller's own reply tells the resident (the case's number, department and time limit), no status message."""
    if action not in TRANSITIONS:
        raise InvalidTransition("unknown_action", action=action)
    sources, target = TRANSITIONS[action]
    if case.status not in sources or (action == "cancel" and case.first_response_at is not None):
        raise InvalidTransition("cannot_transition", number=case.number, status=label("status", case.status),
                                action=label("action", action))
    case.status = target
    if action in ("accept", "resolve") and case.first_response_at is None:
        case.first_response_at = now
    if action == "resolve":
        case.resolved_at = now
    elif action == "close":
        case.closed_at = now
    elif action == "reopen":
        case.reopen_count = (case.reopen_count or 0) + 1
        case.resolved_at = case.closed_at = None
        case.followup_state = case.followup_asked_at = case.followup_reminded_at = None
        case.warned_at = case.escalated_at = None
        case.due_at = now + (case.due_at - case.created_at)  # a fresh time limit of the same length
    event = add_event(session, case, action, actor=actor, now=now, note=note)
    if action in TELL_RESIDENT and tell_resident:
        outbox.enqueue(session, key=f"case:{case.id}:{action}:{event.id}", openid=case.openid,
                       purpose=Purpose.CASE_STATUS, now=now, case_id=case.id,
                       text=render_text(f"intake/status_{action}", case=case, note=note,
                                        department=label("department", case.department),
                                        due=fmt_local(case.due_at)))
    if action == "reopen":
        notify(session, case, case.department, now, f"reopen-{case.reopen_count}", note=note)  # with the reason
    return case


def reassign(session: Session, case: Case, department: str, *, actor: str, now: datetime,
             note: str | None = None) -> Case:
    """Move the case to another department and tell that department's staff."""
    previous, case.department = case.department, department
    event = add_event(session, case, "reassign", actor=actor, now=now, note=note,
                      data={"from": previous, "to": department})
    notify(session, case, department, now, f"reassign-{event.id}", note=note)  # why it moved, for its new staff
    return case


def assign(session: Session, case: Case, user: User | None, *, actor: str, now: datetime) -> Case:
    """Give the case to one person (我来办 / a colleague), or to nobody; an audit event with both names."""
    previous = case.assignee.username if case.assignee else None
    case.assignee_id, case.assignee = (user.id if user else None), user
    add_event(session, case, "assign", actor=actor, now=now,
              data={"from": previous, "to": user.username if user else None})
    return case


def get_by_number(session: Session, number: str) -> Case:
    """The case with this number; NotFound otherwise."""
    case = session.scalars(select(Case).where(Case.number == number.strip())).one_or_none()
    if case is None:
        raise NotFound("case_not_found", number=number.strip())
    return case


__all__ = ["add_event", "create_case", "get_by_number", "notify_department", "place", "reassign", "transition"]
