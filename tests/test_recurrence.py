"""A report that a recently finished case's problem is back or was never fixed reopens that case
(handlers/conversation/recurrence.py), through the signed webhook as residents write it."""
from __future__ import annotations

from datetime import timedelta

from bot.clock import utcnow
from bot.domain.cases import transition
from bot.storage.models import Case, Resident
from scheduler.runner import run_once
from tests.helpers_intake import BOUND, cases_of, events, outbox

H = timedelta(hours=1)


def reported_and_resolved(db, wechat, text: str = "我家卫生间漏水，楼上渗下来的", ago: timedelta = H) -> Case:  # type: ignore[no-untyped-def]
    wechat.send_text(text, openid=BOUND)
    [case] = cases_of(db, BOUND)
    transition(db, case, "resolve", actor="staff", now=utcnow() - ago)
    db.commit()
    return case


def test_still_leaking_after_rating_satisfied_reopens_the_same_case(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    case = reported_and_resolved(street, wechat)
    run_once(app, utcnow() + 25 * H)  # the satisfaction question
    wechat.send_text("满意", openid=BOUND)
    assert cases_of(street, BOUND)[0].status == "closed"
    staff_before = len(outbox(street, "staff"))
    reply = wechat.send_text("还是漏，没修好", openid=BOUND)
    [after] = cases_of(street, BOUND)  # no second case
    assert after.id == case.id and (after.status, after.reopen_count) == ("open", 1)
    assert case.number in reply.text and "已重新打开" in reply.text and "物业公司" in reply.text
    assert [e.note for e in events(street, after, "reopen")] == ["还是漏，没修好"]
    alerts = outbox(street, "staff")[staff_before:]
    assert alerts and all("还是漏，没修好" in row.payload["text"] for row in alerts)  # the reason, for the staff
    statuses = [row.payload["text"] for row in outbox(street, "case_status", BOUND)]
    assert statuses and not any("重新打开" in text for text in statuses)  # the reply told it: no status message


def test_clutter_back_before_the_question_reopens_the_case(street, wechat) -> None:  # type: ignore[no-untyped-def]
    case = reported_and_resolved(street, wechat, "楼道里堆了好多纸箱子")
    reply = wechat.send_text("过了两天，那些纸箱子又堆回来了", openid=BOUND)
    [after] = cases_of(street, BOUND)
    assert after.id == case.id and after.status == "open" and "社区居委会会再次处理" in reply.text
    wechat.send_text("就在三楼楼梯口", openid=BOUND)  # the next words go on the same case
    assert len(cases_of(street, BOUND)) == 1 and events(street, case, "detail")


def test_a_leak_back_after_two_weeks_is_a_new_case(street, wechat) -> None:  # type: ignore[no-untyped-def]
    reported_and_resolved(street, wechat, ago=timedelta(days=15))
    reply = wechat.send_text("又漏了，还是卫生间", openid=BOUND)
    first, second = cases_of(street, BOUND)
    assert first.status == "resolved" and second.intent == "leak" and second.number in reply.text


def test_another_problem_is_a_new_case(street, wechat) -> None:  # type: ignore[no-untyped-def]
    reported_and_resolved(street, wechat)
    wechat.send_text("厨房里有蟑螂，还挺多", openid=BOUND)
    first, second = cases_of(street, BOUND)
    assert (first.status, second.intent) == ("resolved", "pest")


def test_a_new_leak_told_without_its_coming_back_is_a_new_case(street, wechat) -> None:  # type: ignore[no-untyped-def]
    reported_and_resolved(street, wechat)
    wechat.send_text("厨房水管也漏水了", openid=BOUND)
    assert [c.status for c in cases_of(street, BOUND)] == ["resolved", "open"]


def test_after_moving_the_old_address_case_stays_finished(street, wechat) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    reported_and_resolved(street, wechat)
    me = street.scalars(select(Resident).where(Resident.openid == BOUND)).one()
    other = street.scalars(select(Resident).where(Resident.building_id.is_not(None),
                                                  Resident.building_id != me.building_id)).first()
    me.building_id, me.compound_id = other.building_id, other.compound_id
    street.commit()
    wechat.send_text("又漏水了", openid=BOUND)
    assert [c.status for c in cases_of(street, BOUND)] == ["resolved", "open"]


def test_cockroaches_back_after_the_pest_control_reopens_its_case(street, wechat) -> None:  # type: ignore[no-untyped-def]
    case = reported_and_resolved(street, wechat, "家里厨房有蟑螂")
    wechat.send_text("消杀完没几天，厨房又有蟑螂了", openid=BOUND)
    [after] = cases_of(street, BOUND)
    assert after.id == case.id and after.status == "open"
