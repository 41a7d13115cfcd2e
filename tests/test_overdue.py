"""Overdue reminders: the department at 80% of the time limit (not yet accepted), supervisors past it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.storage.models import Case, CaseEvent, Community
from scheduler.runner import run_once
from tests.helpers_outreach import NOW, case, staff, texts

H = timedelta(hours=1)
LIMIT = timedelta(hours=10)  # 80% at 8 h


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    home, away = Community(name="和平社区"), Community(name="其他社区")
    db.add_all([home, away])
    db.commit()
    staff(db, "o-prop-home", "property", home.id)
    staff(db, "o-prop-street", "property")  # street-wide: every community
    staff(db, "o-prop-away", "property", away.id)
    staff(db, "o-health", "health")
    staff(db, "o-super", "supervisor")
    return home


def reload(db, row: Case) -> Case:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.get(Case, row.id)


def test_department_warned_once_at_80_percent(app, db, standin, people) -> None:  # type: ignore[no-untyped-def]
    c = case(db, "20260302-0007", "o-res", limit=LIMIT, community_id=people.id)
    run_once(app, NOW + 7 * H + timedelta(minutes=59))
    assert not standin.sent()
    run_once(app, NOW + 8 * H)
    run_once(app, NOW + 9 * H)
    for member in ("o-prop-home", "o-prop-street"):
        (warning,) = texts(standin, member)
        assert "20260302-0007" in warning and "80%" in warning
    assert not texts(standin, "o-prop-away") and not texts(standin, "o-health") and not texts(standin, "o-super")
    c = reload(db, c)
    assert c.warned_at == NOW + 8 * H and c.escalated_at is None


@pytest.mark.parametrize("fields, warned", [
    ({"status": "in_progress", "first_response_at": NOW + H}, False),  # accepted: no 80% warning
    ({"status": "resolved", "first_response_at": NOW + H, "resolved_at": NOW + 2 * H}, False),
    ({"status": "cancelled"}, False),
    ({}, True),
])
def test_only_unaccepted_cases_are_warned(app, db, standin, people, fields: dict, warned: bool) -> None:  # type: ignore[no-untyped-def]
    case(db, "20260302-0008", "o-res", limit=LIMIT, community_id=people.id, **fields)
    run_once(app, NOW + 9 * H)
    assert bool(texts(standin, "o-prop-home")) == warned


def test_supervisors_told_once_when_the_limit_passes(app, db, standin, people) -> None:  # type: ignore[no-untyped-def]
    c = case(db, "20260302-0009", "o-res", limit=LIMIT, community_id=people.id, status="in_progress",
             first_response_at=NOW + H)
    run_once(app, NOW + 9 * H)
    assert not texts(standin, "o-super")
    run_once(app, NOW + 10 * H)
    run_once(app, NOW + 30 * H)
    (note,) = texts(standin, "o-super")
    assert "20260302-0009" in note and "督办" in note
    assert not texts(standin, "o-prop-home")  # accepted in time: no 80% warning
    c = reload(db, c)
    assert c.escalated_at == NOW + 10 * H
    kinds = [e.kind for e in db.scalars(select(CaseEvent).where(CaseEvent.case_id == c.id))]
    assert kinds == ["overdue_escalated"]


def test_resolved_before_the_limit_is_never_escalated(app, db, standin, people) -> None:  # type: ignore[no-untyped-def]
    from bot.domain.cases import transition

    c = case(db, "20260302-0010", "o-res", limit=LIMIT, community_id=people.id)
    run_once(app, NOW + 8 * H)
    transition(db, reload(db, c), "resolve", actor="staff", now=NOW + 9 * H)
    db.commit()
    run_once(app, NOW + 11 * H)
    assert len(texts(standin, "o-prop-home")) == 1 and not texts(standin, "o-super")


def test_missed_warning_is_not_sent_late_but_escalation_is(app, db, standin, people) -> None:  # type: ignore[no-untyped-def]
    case(db, "20260302-0011", "o-res", limit=LIMIT, community_id=people.id)
    run_once(app, NOW + 12 * H)  # the scheduler was down at 8 h
    assert not texts(standin, "o-prop-home") and len(texts(standin, "o-super")) == 1


def test_overdue_reminders_are_one_summary_per_person_but_urgent_ones_go_at_once(app, db, standin, people) -> None:  # type: ignore[no-untyped-def]
    """Five ordinary cases reaching 80% together: one summary message per staff member (outbox HELD →
    staff_alerts); a 特急 case reaching 80% at the same time: its own message at once."""
    from bot.constants import OutboxStatus
    from bot.storage.models import Outbox

    for i in range(5):
        case(db, f"20260302-01{i:02d}", f"o-res-{i}", limit=LIMIT, community_id=people.id)
    urgent_case = case(db, "20260302-0199", "o-res-9", limit=LIMIT, community_id=people.id)
    urgent_case.priority = "critical"
    db.commit()
    run_once(app, NOW + 8 * H)
    for member in ("o-prop-home", "o-prop-street"):
        got = texts(standin, member)
        assert len(got) == 2, got
        (urgent,) = [t for t in got if "20260302-0199" in t and "80%" in t]
        (summary,) = [t for t in got if t is not urgent]
        assert "【工单汇总】" in summary and "5 条" in summary and "即将超时5" in summary
    held = db.scalars(select(Outbox).where(Outbox.key.like("overdue:%"))).all()
    assert {r.status for r in held if r.case_id != urgent_case.id} == {OutboxStatus.BATCHED}
    run_once(app, NOW + 9 * H)  # nothing new: nothing more
    assert len(texts(standin, "o-prop-home")) == 2
