"""A resident with a known address reports each intent through the signed webhook."""
from __future__ import annotations

import pytest

from bot.messaging.texts import label, render_text
from tests.helpers_intake import BOUND, UNMANAGED, cases_of, events, outbox


@pytest.mark.parametrize("openid,text,intent,department,hours,staff", [
    (BOUND, "楼上漏水，天花板一直往下滴水", "leak", "property", 24, {"demo-staff-property-1", "demo-staff-grid-1"}),
    (BOUND, "家里厨房有很多蟑螂", "pest", "health", 72, {"demo-staff-health"}),
    (BOUND, "楼道里堆满了杂物和纸箱", "clutter", "community", 72,
     {"demo-staff-community-1", "demo-staff-community-street", "demo-staff-property-1"}),
    (BOUND, "隔壁在楼顶私搭乱建", "construction", "enforcement", 168, {"demo-staff-enforcement"}),
    (BOUND, "家里停电了", "utility", "property", 24, {"demo-staff-property-1"}),
    (BOUND, "小区路灯坏了", "other", "community", 168, {"demo-staff-community-1", "demo-staff-community-street"}),
    (BOUND, "楼道灯坏了好几天了", "facility", "property", 72, {"demo-staff-property-1"}),
    (UNMANAGED, "单元门锁坏了，关不上", "facility", "repair", 72, {"demo-staff-repair"}),
    (UNMANAGED, "厨房水管漏水了", "leak", "repair", 2, {"demo-staff-repair"}),
    (UNMANAGED, "家里停水了", "utility", "repair", 2, {"demo-staff-repair"}),
    (BOUND, "闻到燃气味", "utility", "property", 2, {"demo-staff-property-1"}),
])
def test_bound_resident_report_opens_routed_case(wechat, street, openid, text, intent, department, hours, staff):
    reply = wechat.send_text(text, openid=openid)
    [case] = cases_of(street, openid)
    assert (case.intent, case.department, case.status, case.text) == (intent, department, "open", text)
    assert case.due_at - case.created_at == __import__("datetime").timedelta(hours=hours)
    assert case.compound is not None and case.building is not None and case.community is not None
    assert case.number in reply.text and label("department", department) in reply.text
    if case.intent != "other":
        assert f"{hours}小时" in reply.text or f"{hours // 24}天" in reply.text
    assert [e.kind for e in events(street, case)] == ["created"]
    assert {row.openid for row in outbox(street, "staff")} == staff
    assert outbox(street, openid=openid) == []  # the resident's answer is the webhook reply


@pytest.mark.parametrize("text,safety", [
    ("楼上漏水，天花板一直往下滴水", "safety/leak"),
    ("闻到燃气味", "safety/gas"),
    ("家里厨房有很多蟑螂", "safety/pest"),
])
def test_reply_carries_safety_advice(wechat, street, text, safety):
    reply = wechat.send_text(text, openid=BOUND)
    assert render_text(safety).splitlines()[0] in reply.text


def test_same_building_same_intent_reports_are_linked(wechat, street):
    wechat.send_text("楼上漏水了", openid=BOUND)
    street.execute(__import__("sqlalchemy").text(
        "UPDATE residents SET building_id=(SELECT building_id FROM residents WHERE openid=:a), unit='1', room='101'"
        " WHERE openid=:b"), {"a": BOUND, "b": "demo-resident-2"})
    street.commit()
    wechat.send_text("卫生间顶上渗水", openid="demo-resident-2")
    wechat.send_text("家里有蟑螂", openid="demo-resident-2")
    [first] = cases_of(street, BOUND)
    second, pest = cases_of(street, "demo-resident-2")
    assert first.group_id == first.id and second.group_id == first.id
    assert pest.group_id is None


def test_a_resident_to_look_after_is_told_to_the_staff(wechat, street, console):  # type: ignore[no-untyped-def]
    """An elderly resident living alone: the case is 较急, its staff read who to look after, the console shows it."""
    reply = wechat.send_text("我今年八十二了，一个人住，腿脚不好，家里厨房好多蟑螂，晚上都不敢开灯", openid=BOUND).text
    [case] = cases_of(street, BOUND)
    assert (case.intent, case.priority, case.care) == ("pest", "high", "独居、行动不便、高龄")  # pest: normal
    assert "已把您的情况（独居、行动不便、高龄）告诉工作人员" in reply
    alerts = [row.payload["text"] for row in outbox(street, "staff")]
    assert alerts and all("需关照：独居、行动不便、高龄，上门前请先电话联系居民" in text for text in alerts)
    assert "需关照" in console.page("/console/cases") and "独居、行动不便、高龄：上门前请先电话联系居民" in \
        console.page(f"/console/cases/{case.number}")
    wechat.send_text("家里厨房有很多蟑螂", openid="o-young")  # no such words: an ordinary case
    wechat.send_text("马连道南口三区5号楼1单元101", openid="o-young")
    [plain] = cases_of(street, "o-young")
    assert (plain.priority, plain.care) == ("normal", None)
    listed = console.page("/console/cases?care=1")  # the clerk's filter: only the residents to look after
    assert case.number in listed and plain.number not in listed and 'name="care" value="1" checked' in listed
    exported = console.client.get("/console/cases.csv").get_data(as_text=True)
    assert "需关照" in exported.splitlines()[0] and "独居、行动不便、高龄" in exported
