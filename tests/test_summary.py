"""The weekly summary to administrators: last week's figures, once per ISO week, after Monday 09:00."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import to_local
from scheduler.runner import run_once
from scheduler.summary_jobs import due_week
from tests.helpers_outreach import NOW, case, staff, texts

MONDAY_9 = NOW - timedelta(hours=1)  # NOW is Monday 10:00 in Beijing
H = timedelta(hours=1)


@pytest.fixture
def week(db):  # type: ignore[no-untyped-def]
    """Admins, other staff, and last week's cases: 3 new, 2 resolved and rated, 1 overdue."""
    staff(db, "o-admin-1", "admin")
    staff(db, "o-admin-2", "admin")
    staff(db, "o-property", "property")
    wednesday = NOW - timedelta(days=5)
    case(db, "20260225-0001", "o-a", status="closed", created_at=wednesday, first_response_at=wednesday + H,
         resolved_at=wednesday + 5 * H, satisfaction="满意", solved=True)
    case(db, "20260225-0002", "o-b", status="closed", created_at=wednesday, first_response_at=wednesday + H,
         resolved_at=wednesday + 6 * H, satisfaction="不满意", solved=False)
    case(db, "20260225-0003", "o-c", created_at=wednesday, limit=timedelta(days=1))  # overdue, never accepted
    case(db, "20260301-0009", "o-d", created_at=NOW - timedelta(days=9))  # the week before: not counted


def test_sent_once_to_each_admin_after_monday_nine(app, db, standin, week) -> None:  # type: ignore[no-untyped-def]
    run_once(app, MONDAY_9 - timedelta(minutes=1))
    assert not texts(standin, "o-admin-1")
    for when in (MONDAY_9, MONDAY_9 + H, NOW + timedelta(days=2)):
        run_once(app, when)
    for admin in ("o-admin-1", "o-admin-2"):
        summaries = [t for t in texts(standin, admin) if "周报" in t]
        assert len(summaries) == 1
    summary = summaries[0]
    first = to_local(NOW - timedelta(days=7)).strftime("%Y-%m-%d")
    assert first in summary and "新增工单：3 件" in summary and "已办结：2 件" in summary
    assert "超时未办结：1 件" in summary and "满意率：50.0%" in summary
    assert not [t for t in texts(standin, "o-property") if "周报" in t]


def test_each_week_gets_its_own_summary(app, db, standin, week) -> None:  # type: ignore[no-untyped-def]
    run_once(app, MONDAY_9)
    run_once(app, MONDAY_9 + timedelta(days=7))
    summaries = [t for t in texts(standin, "o-admin-1") if "周报" in t]
    assert len(summaries) == 2 and "新增工单：0 件" in summaries[1]


@pytest.mark.parametrize("hours_after_monday_9, due", [(-1, False), (0, True), (24 * 6 + 14, True)])
def test_due_week(hours_after_monday_9: int, due: bool) -> None:
    when = MONDAY_9 + timedelta(hours=hours_after_monday_9)
    week = due_week(when, 0, 9)
    assert (week is not None) == due
    if week:
        start, end = week
        assert end - start == timedelta(days=7) and to_local(end).weekday() == 0 and to_local(end).hour == 0


def test_reaches_an_admin_imported_the_documented_way(app, db, runner, standin, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # README: `flask --app bot import-staff FILE.csv` (name,openid,department,community), department admin
    path = tmp_path / "staff.csv"
    path.write_text("name,openid,department,community\n街道管理员,o-imported-admin,admin,\n"
                    "督办,o-imported-supervisor,supervisor,\n", encoding="utf-8")
    result = runner.invoke(args=["import-staff", str(path)])
    assert result.exit_code == 0, result.output
    assert "created: 2" in result.output
    case(db, "20260225-0001", "o-a", status="closed", created_at=NOW - timedelta(days=5),
         resolved_at=NOW - timedelta(days=5) + H, satisfaction="满意", solved=True)
    run_once(app, MONDAY_9)
    [summary] = [t for t in texts(standin, "o-imported-admin") if "周报" in t]
    assert "新增工单：1 件" in summary
    assert not [t for t in texts(standin, "o-imported-supervisor") if "周报" in t]
