"""Satisfaction follow-ups: asked after 24 h, answered by digit or word, reminder, 未评价, one at a time."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.storage.models import Case, CaseEvent, Outbox
from scheduler.runner import run_once
from tests.helpers_outreach import NOW, case, staff, texts

H = timedelta(hours=1)


def resolved(db, number: str = "20260302-0001", openid: str = "o-res", at=NOW, **kw) -> Case:  # type: ignore[no-untyped-def]
    return case(db, number, openid, status="resolved", created_at=at - 30 * H, resolved_at=at,
                first_response_at=at - 29 * H, **kw)


def reload(db, row: Case) -> Case:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.get(Case, row.id)


def test_asked_24_hours_after_resolution_naming_the_case(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    c = resolved(db)
    run_once(app, NOW + 23 * H)
    assert not standin.sent()
    run_once(app, NOW + 24 * H)
    run_once(app, NOW + 25 * H)  # asking again is not due: one message
    (question,) = texts(standin, "o-res")
    assert "20260302-0001" in question and "1 满意" in question and "没解决" in question
    c = reload(db, c)
    assert c.followup_state == "asked" and c.followup_asked_at == NOW + 24 * H


@pytest.mark.parametrize("answer, satisfaction, solved, status, reopened", [
    ("1", "满意", True, "closed", False),
    ("2", "基本满意", True, "closed", False),
    ("3", "不满意", None, "open", True),
    ("满意", "满意", True, "closed", False),
    ("基本满意。", "基本满意", True, "closed", False),
    ("不满意", "不满意", None, "open", True),
    ("没解决", "不满意", False, "open", True),
    ("问题还没解决", "不满意", False, "open", True),
])
def test_answer_is_recorded_and_reopens_when_unsatisfied(app, db, standin, wechat, answer, satisfaction,
                                                         solved, status, reopened) -> None:  # type: ignore[no-untyped-def]
    staff(db, "o-property", "property")
    c = resolved(db)
    run_once(app, NOW + 24 * H)
    reply = wechat.send_text(answer, openid="o-res")
    assert "20260302-0001" in reply.text
    c = reload(db, c)
    assert (c.satisfaction, c.solved, c.status) == (satisfaction, solved, status)
    assert c.reopen_count == (1 if reopened else 0)
    kinds = [e.kind for e in db.scalars(select(CaseEvent).where(CaseEvent.case_id == c.id))]
    assert "followup_answer" in kinds and ("reopen" in kinds) == reopened
    staff_rows = db.scalars(select(Outbox).where(Outbox.purpose == "staff", Outbox.openid == "o-property")).all()
    assert len(staff_rows) == (1 if reopened else 0)
    run_once(app, NOW + 30 * H)
    told = texts(standin, "o-property")
    assert len(told) == (1 if reopened else 0)
    if reopened:
        assert "20260302-0001" in told[0]


def test_no_answer_reminds_once_then_closes_as_not_rated(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    c = resolved(db)
    for hours in (24, 71, 72, 73, 119, 120, 121, 200):
        run_once(app, NOW + hours * H)
    question, reminder = texts(standin, "o-res")
    assert "20260302-0001" in reminder and "提醒" in reminder
    c = reload(db, c)
    assert (c.status, c.satisfaction, c.followup_state) == ("closed", "未评价", "expired")
    assert c.followup_reminded_at == NOW + 72 * H and c.closed_at == NOW + 120 * H


def test_one_case_at_a_time_per_resident(app, db, standin, wechat) -> None:  # type: ignore[no-untyped-def]
    first = resolved(db, "20260302-0001", at=NOW)
    second = resolved(db, "20260302-0002", at=NOW + H)
    other = resolved(db, "20260302-0003", openid="o-other", at=NOW + H)
    run_once(app, NOW + 26 * H)
    (question,) = texts(standin, "o-res")
    assert "20260302-0001" in question and "20260302-0002" not in question
    assert len(texts(standin, "o-other")) == 1
    wechat.send_text("1", openid="o-res")
    assert reload(db, first).satisfaction == "满意"
    run_once(app, NOW + 27 * H)
    assert "20260302-0002" in texts(standin, "o-res")[1]
    wechat.send_text("2", openid="o-res")
    assert reload(db, second).satisfaction == "基本满意" and reload(db, other).satisfaction is None


def test_after_expiry_the_next_case_is_asked(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    resolved(db, "20260302-0001", at=NOW)
    resolved(db, "20260302-0002", at=NOW + H)
    for hours in (24, 72, 120):
        run_once(app, NOW + hours * H)
    asked = texts(standin, "o-res")
    assert len(asked) == 3 and "20260302-0002" in asked[2]


def test_a_digit_with_no_question_pending_goes_to_intake(app, db, wechat) -> None:  # type: ignore[no-untyped-def]
    c = resolved(db)  # resolved but not asked yet
    reply = wechat.send_text("1", openid="o-res")
    assert reply.status == 200 and "感谢您的评价" not in (reply.text or "")
    c = reload(db, c)
    assert c.satisfaction is None and c.status == "resolved"


def test_reopened_case_is_asked_again_after_its_next_resolution(app, db, standin, wechat) -> None:  # type: ignore[no-untyped-def]
    from bot.domain.cases import transition

    c = resolved(db)
    run_once(app, NOW + 24 * H)
    wechat.send_text("没解决", openid="o-res")
    c = reload(db, c)
    transition(db, c, "resolve", actor="staff", now=NOW + 50 * H)
    db.commit()
    run_once(app, NOW + 74 * H)
    questions = [t for t in texts(standin, "o-res") if "1 满意" in t]
    assert len(questions) == 2
    wechat.send_text("满意", openid="o-res")
    c = reload(db, c)
    assert (c.satisfaction, c.solved, c.status, c.reopen_count) == ("满意", True, "closed", 1)
