"""The three rates, medians and breakdowns over cases stored in a real database."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.domain import stats
from bot.storage.models import Case, Community

T0 = datetime(2026, 3, 1, 2, 0)  # 10:00 in Beijing
NOW = T0 + timedelta(days=30)


def _case(db, n: int, *, community: Community | None = None, intent: str = "leak", created: datetime = T0,
          limit_h: float = 24, response_h: float | None = None, resolve_h: float | None = None,
          status: str | None = None, satisfaction: str | None = None, solved: bool | None = None) -> Case:
    case = Case(number=f"T{n:04d}", openid=f"o{n}", intent=intent, priority="normal", department="property",
                text="x", community_id=community.id if community else None, created_at=created,
                due_at=created + timedelta(hours=limit_h), reopen_count=0, satisfaction=satisfaction, solved=solved,
                status=status or ("resolved" if resolve_h is not None else "in_progress" if response_h else "open"))
    if response_h is not None:
        case.first_response_at = created + timedelta(hours=response_h)
    if resolve_h is not None:
        case.resolved_at = created + timedelta(hours=resolve_h)
    db.add(case)
    db.flush()
    return case


def test_rates_follow_the_documented_definitions(db) -> None:
    east = Community(name="东社区")
    db.add(east)
    db.flush()
    _case(db, 1, community=east, response_h=1, resolve_h=10, satisfaction="满意", solved=True)
    _case(db, 2, community=east, response_h=30, resolve_h=40, satisfaction="不满意", solved=False)
    _case(db, 3, response_h=2, resolve_h=5, satisfaction="基本满意")
    _case(db, 4)  # never accepted, past due: overdue, due a response, not on time
    _case(db, 5, created=NOW - timedelta(hours=1))  # not yet due: not counted as due a response
    _case(db, 6, status="cancelled")
    _case(db, 7, response_h=1, resolve_h=3, satisfaction="未评价")
    db.commit()

    r = stats.compute(db, T0, NOW + timedelta(days=1), now=NOW)

    assert (r.received, r.resolved, r.overdue) == (6, 4, 1)
    assert (r.due_response, r.responded_on_time) == (5, 3)
    assert r.response_rate == pytest.approx(3 / 5)
    assert (r.answered, r.solved) == (3, 2)
    assert r.resolution_rate == pytest.approx(2 / 3)
    assert (r.rated, r.satisfied, r.basic_satisfied) == (3, 1, 1)
    assert r.satisfaction_rate == pytest.approx(1 / 3)
    assert r.basic_satisfied_rate == pytest.approx(1 / 3)
    assert r.median_response_hours == pytest.approx(1.5)
    assert r.median_resolution_hours == pytest.approx(7.5)
    assert r.on_time_rate == pytest.approx(3 / 5)

    only_east = stats.compute(db, T0, NOW + timedelta(days=1), community_id=east.id, now=NOW)
    assert (only_east.received, only_east.satisfied, only_east.rated) == (2, 1, 2)


def test_empty_period_has_no_rates(db) -> None:
    r = stats.compute(db, T0, NOW, now=NOW)
    assert r.received == 0
    assert r.response_rate is None and r.satisfaction_rate is None and r.median_response_hours is None


@pytest.mark.parametrize("by, expected", [
    ("intent", {"leak": 2, "pest": 1}),
    ("month", {"2026-03": 2, "2026-04": 1}),
    ("community", {"": 1, "东社区": 2}),
])
def test_breakdown_groups_cases(db, by: str, expected: dict[str, int]) -> None:
    east = Community(name="东社区")
    db.add(east)
    db.flush()
    _case(db, 1, community=east)
    _case(db, 2, community=east, intent="pest")
    # 2026-03-31 17:00 UTC is 2026-04-01 01:00 in Beijing: the month is the local one
    _case(db, 3, created=datetime(2026, 3, 31, 17, 0))
    db.commit()
    rows = stats.breakdown(db, T0, NOW + timedelta(days=5), by, now=NOW)
    assert {key: r.received for key, r in rows} == expected


def test_breakdown_rejects_unknown_grouping(db) -> None:
    with pytest.raises(ValueError):
        stats.breakdown(db, T0, NOW, "weekday")
