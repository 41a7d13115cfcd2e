"""The case list's query: filters, search by what a clerk remembers, sorting, and pages with a total."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, union
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from bot.clock import LOCAL
from bot.constants import OPEN_STATUSES, CaseStatus
from bot.constants import PRIORITIES as PRIORITY_ORDER
from bot.storage.models import Building, Case, Compound, Resident
from bot.web.console.access import ConsoleUser, scope_cases

PAGE_SIZE = 50
STATUSES = tuple(CaseStatus)
ACTIVE = "active"  # a status filter: open or in progress (待办)
PRIORITIES = tuple(reversed(PRIORITY_ORDER))  # most pressing first
SORTS = ("newest", "oldest", "due", "priority")  # due: nearest (or most overdue) deadline first
KEYS = ("status", "intent", "priority", "department", "community", "compound", "start", "end", "overdue",
        "reopened", "handoff", "care", "mine", "q", "sort")
NUMBER = re.compile(r"^(\d{8})-?(\d{4})$")  # 20260101-0001, typed with or without its dash
PHONE_TAIL = 4  # digits a clerk remembers of a phone number
NUMBER_DAY = 8  # a case number's digits before its dash (the day)
MAX_PEOPLE = 500  # residents a search names one by one; more (a surname) are joined in the database


@dataclass(frozen=True)
class Page:
    """One page of the list: its rows (case, resident), the total, and where it is."""

    rows: list[Any]
    total: int
    number: int
    pages: int


def filters(args: Mapping[str, str], staff: bool = False) -> dict[str, str]:
    """The list's filters from the query string, stripped; unknown sorts fall back. Staff opening the list
    plainly get their work queue: open cases, most pressing first."""
    f = {k: (args.get(k) or "").strip() for k in KEYS}
    if staff and not any(k in args for k in KEYS):
        f["status"], f["sort"] = ACTIVE, "priority"
    if f["sort"] not in SORTS:
        f["sort"] = "due" if f["overdue"] else "newest"
    return f


def exact_number(q: str) -> str | None:
    """The case number the search box holds, dash or not (20260101-0001), if it holds one."""
    match = NUMBER.match(q)
    return f"{match.group(1)}-{match.group(2)}" if match else None


def _day(raw: str) -> datetime | None:
    """Midnight of a Beijing date (YYYY-MM-DD) as naive UTC; None when empty or not a date."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return datetime.combine(day, time(), LOCAL).astimezone(UTC).replace(tzinfo=None)


def _search(session: Session, query: Select[Case, Resident], q: str) -> Select[Case, Resident]:
    """Number (with or without the dash), resident's name or phone (or its last digits), words of the
    complaint, compound, building ("5号楼", "马连道南口三区5号楼"). People and places are looked up first
    (small tables) and only those found become conditions; the cases are then found as a union of indexed
    lookups (openid, compound, building) and one scan of their text and number, never an OR across them, which
    would make SQLite walk the whole list in date order."""
    people = [Resident.name.contains(q, autoescape=True)]
    words = [Case.text.contains(q, autoescape=True), Case.number.contains(q, autoescape=True)]
    digits = q.replace("-", "")
    if digits.isdigit() and len(digits) >= PHONE_TAIL:
        people.append(Resident.phone.contains(digits))
        if len(digits) > NUMBER_DAY:  # a number typed without its dash: 202601010001, 2026010100
            words.append(Case.number.contains(f"{digits[:NUMBER_DAY]}-{digits[NUMBER_DAY:]}"))
    found = [select(Case.id).where(or_(*words))]
    openids = session.scalars(select(Resident.openid).where(or_(*people)).limit(MAX_PEOPLE + 1)).all()
    if len(openids) > MAX_PEOPLE:  # a common surname: let the database join instead of a long list
        found.append(select(Case.id).where(Case.openid.in_(select(Resident.openid).where(or_(*people)))))
    elif openids:
        found.append(select(Case.id).where(Case.openid.in_(openids)))
    compounds = session.scalars(select(Compound.id).where(Compound.name.contains(q, autoescape=True))).all()
    if compounds:
        found.append(select(Case.id).where(Case.compound_id.in_(compounds)))
    if q.endswith("号楼"):
        name = q.removesuffix("号楼")
        buildings = session.scalars(
            select(Building.id).join(Compound, Compound.id == Building.compound_id)
            .where(or_(Building.name == name, Compound.name + Building.name == name))).all()
        if buildings:
            found.append(select(Case.id).where(Case.building_id.in_(buildings)))
    if len(found) == 1:  # words only: a plain condition, so a common word's first page stops early
        return query.where(or_(*words))
    return query.where(Case.id.in_(union(*found)))


def _where(session: Session, query: Select[Case, Resident], f: dict[str, str],
           now: datetime) -> Select[Case, Resident]:
    """The filters applied to a case query."""
    if f["q"]:
        query = _search(session, query, f["q"])
    if f["status"] == ACTIVE:
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif f["status"]:
        query = query.where(Case.status == f["status"])
    for key in ("priority", "department"):
        if f[key]:
            query = query.where(getattr(Case, key) == f[key])
    if f["intent"]:
        query = query.where(or_(Case.intent == f["intent"], Case.also.contains(f["intent"])))
    if f["community"].isdigit():
        query = query.where(Case.community_id == int(f["community"]))
    if f["compound"].isdigit():
        query = query.where(Case.compound_id == int(f["compound"]))
    start, end = _day(f["start"]), _day(f["end"])
    if start is not None:
        query = query.where(Case.created_at >= start)
    if end is not None:
        query = query.where(Case.created_at < end + timedelta(days=1))  # the end day is included
    if f["overdue"]:
        query = query.where(Case.status.in_(OPEN_STATUSES), Case.due_at <= now)
    if f["reopened"]:
        query = query.where(Case.reopen_count > 0)
    if f["handoff"]:
        query = query.where(Case.handoff.is_(True))
    if f["care"]:  # 老弱病残: the residents the staff should look after
        query = query.where(Case.care.is_not(None))
    return query


def _order(query: Select[Case, Resident], sort: str) -> Select[Case, Resident]:
    """Sorted as chosen; the id breaks ties so pages never overlap."""
    rank = when({p: i for i, p in enumerate(PRIORITIES)}, value=Case.priority, else_=len(PRIORITIES))
    orders = {
        "newest": (Case.created_at.desc(), Case.id.desc()),
        "oldest": (Case.created_at.asc(), Case.id.asc()),
        "due": (Case.due_at.asc(), Case.id.asc()),
        "priority": (rank, Case.due_at.asc(), Case.id.asc()),
    }
    return query.order_by(*orders[sort])


def _base(session: Session, user: ConsoleUser, f: dict[str, str], now: datetime) -> Select[Case, Resident]:
    query = select(Case, Resident).outerjoin(Resident, Resident.openid == Case.openid)
    if f["mine"]:  # 我的: assigned to this user (我来办)
        query = query.where(Case.assignee_id == user.id)
    return _where(session, scope_cases(query, user), f, now)


def rows(session: Session, user: ConsoleUser, f: dict[str, str], now: datetime, cap: int) -> list[Any]:
    """Every matching (case, resident), sorted, at most `cap` (the CSV export)."""
    return list(session.execute(_order(_base(session, user, f, now), f["sort"]).limit(cap)).all())


def page(session: Session, user: ConsoleUser, f: dict[str, str], number: int, now: datetime) -> Page:
    """The page `number` (from 1) of the user's cases matching the filters, with the total."""
    base = _base(session, user, f, now)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    number = min(max(number, 1), pages)
    rows = session.execute(_order(base, f["sort"]).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)).all()
    return Page(list(rows), total, number, pages)
