"""The three rates (接诉即办 三率) and timing figures for cases created in a period.

Definitions (all over cases created in [start, end), cancelled cases left out):
- received: cases created in the period.
- resolved: cases with a resolution time (resolved_at set; closed after resolution counts).
- overdue: cases still open or in progress whose due_at has passed at `now`.
- due a response: cases that were accepted (first_response_at set) or whose due_at has
  passed at `now`; responded on time: accepted no later than due_at.
  response_rate = responded_on_time / due_response.
- answered: cases with a follow-up answer (solved recorded, or a 满意/基本满意/不满意 rating);
  solved: answered cases confirmed solved (solved is True; with no solved flag, a 满意 or
  基本满意 rating counts as solved). resolution_rate = solved / answered.
- rated: cases rated 满意, 基本满意 or 不满意 (未评价 is not rated);
  satisfaction_rate = 满意 / rated; basic_satisfied_rate = 基本满意 / rated.
- on_time_rate: cases resolved no later than due_at / cases resolved or past due_at.
- medians: hours from creation to first response, and to resolution.
A rate is None when its denominator is zero.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import to_local, utcnow
from bot.constants import OPEN_STATUSES, RATED, CaseStatus, Satisfaction
from bot.storage.models import Case, Community

GROUPINGS = ("community", "intent", "month")


@dataclass(frozen=True)
class Rates:
    """The figures of one period (optionally one community or intent)."""

    received: int
    resolved: int
    overdue: int
    due_response: int
    responded_on_time: int
    response_rate: float | None
    answered: int
    solved: int
    resolution_rate: float | None
    rated: int
    satisfied: int
    basic_satisfied: int
    satisfaction_rate: float | None
    basic_satisfied_rate: float | None
    median_response_hours: float | None
    median_resolution_hours: float | None
    on_time_rate: float | None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _hours(values: list[float]) -> float | None:
    return round(median(values), 2) if values else None


def _is_solved(case: Case) -> bool:
    if case.solved is not None:
        return bool(case.solved)
    return case.satisfaction in (Satisfaction.SATISFIED, Satisfaction.BASIC)


def rates_of(cases: Iterable[Case], now: datetime) -> Rates:
    """The figures over the given cases, as of `now`."""
    cases = [c for c in cases if c.status != CaseStatus.CANCELLED]
    resolved = [c for c in cases if c.resolved_at is not None]
    overdue = [c for c in cases if c.status in OPEN_STATUSES and c.due_at <= now]
    due = [c for c in cases if c.first_response_at is not None or c.due_at <= now]
    on_time_resp = [c for c in due if c.first_response_at is not None and c.first_response_at <= c.due_at]
    answered = [c for c in cases if c.solved is not None or c.satisfaction in RATED]
    solved = [c for c in answered if _is_solved(c)]
    rated = [c for c in cases if c.satisfaction in RATED]
    satisfied = sum(1 for c in rated if c.satisfaction == Satisfaction.SATISFIED)
    basic = sum(1 for c in rated if c.satisfaction == Satisfaction.BASIC)
    finish_due = [c for c in cases if c.resolved_at is not None or c.due_at <= now]
    on_time = [c for c in resolved if c.resolved_at is not None and c.resolved_at <= c.due_at]
    response_h = [(c.first_response_at - c.created_at).total_seconds() / 3600
                  for c in cases if c.first_response_at is not None]
    resolution_h = [(c.resolved_at - c.created_at).total_seconds() / 3600 for c in resolved if c.resolved_at]
    return Rates(
        received=len(cases), resolved=len(resolved), overdue=len(overdue),
        due_response=len(due), responded_on_time=len(on_time_resp),
        response_rate=_ratio(len(on_time_resp), len(due)),
        answered=len(answered), solved=len(solved), resolution_rate=_ratio(len(solved), len(answered)),
        rated=len(rated), satisfied=satisfied, basic_satisfied=basic,
        satisfaction_rate=_ratio(satisfied, len(rated)), basic_satisfied_rate=_ratio(basic, len(rated)),
        median_response_hours=_hours(response_h), median_resolution_hours=_hours(resolution_h),
        on_time_rate=_ratio(len(on_time), len(finish_due)),
    )


def _cases(session: Session, start: datetime, end: datetime, community_id: int | None = None,
           intent: str | None = None) -> list[Case]:
    query = select(Case).where(Case.created_at >= start, Case.created_at < end)
    if community_id is not None:
        query = query.where(Case.community_id == community_id)
    if intent is not None:
        query = query.where(Case.intent == intent)
    return list(session.scalars(query.order_by(Case.created_at)))


def compute(session: Session, start: datetime, end: datetime, *, community_id: int | None = None,
            intent: str | None = None, now: datetime | None = None) -> Rates:
    """The figures for cases created in [start, end) (naive UTC), optionally one community / intent."""
    return rates_of(_cases(session, start, end, community_id, intent), now or utcnow())


def breakdown(session: Session, start: datetime, end: datetime, by: str,
              now: datetime | None = None, *, community_id: int | None = None) -> list[tuple[str, Rates]]:
    """The figures per community name, intent code or month ('YYYY-MM', Asia/Shanghai); sorted by key."""
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")
    names = {row.id: row.name for row in session.execute(select(Community.id, Community.name))}
    groups: dict[str, list[Case]] = defaultdict(list)
    for case in _cases(session, start, end, community_id):
        if by == "community":
            key = names.get(case.community_id, "") if case.community_id else ""
        elif by == "intent":
            key = case.intent
        else:
            key = to_local(case.created_at).strftime("%Y-%m")
        groups[key].append(case)
    when = now or utcnow()
    return [(key, rates_of(groups[key], when)) for key in sorted(groups)]
