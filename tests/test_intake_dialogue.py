"""Conversations through the signed webhook: addresses, commands, media, retries, duplicates."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import utcnow
from bot.messaging.texts import label, render_text
from bot.services import services
from tests.helpers_intake import BOUND, age_cases, cases_of, events, outbox, resident

NEW = "o-new-resident"


@pytest.mark.parametrize("address,compound,building,unit,room", [
    ("马连道南口三区5号楼2单元1501", "马连道南口三区", "5", "2", "1501"),
    ("天宁寺北里6楼3门301", "天宁寺北里", "6", "3", "301"),
    ("我家是天宁寺北里6-3-301", "天宁寺北里", "6", "3", "301"),
    ("马连道南口3区 五号楼 二单元 1501室", "马连道南口三区", "5", "2", "1501"),
])
def test_unknown_resident_gives_address_then_case_opens(wechat, street, address, compound, building, unit, room):
    first = wechat.send_text("楼上漏水，天花板一直往下滴水", openid=NEW)
    assert cases_of(street, NEW) == []
    assert render_text("safety/leak").splitlines()[0] in first.text  # safety advice comes at once
    second = wechat.send_text(address, openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.intent, case.text) == ("leak", "楼上漏水，天花板一直往下滴水")
    assert (case.compound.name, case.building.name, case.unit, case.room) == (compound, building, unit, room)
    assert case.number in second.text
    who = resident(street, NEW)
    assert (who.compound.name, who.building.name, who.unit, who.room) == (compound, building, unit, room)


def test_typo_in_compound_name_is_confirmed_first(wechat, street):
    wechat.send_text("家里厨房有很多蟑螂", openid=NEW)
    ask = wechat.send_text("马连道南口山区5号楼2单元1501", openid=NEW)
    assert "马连道南口三区5号楼2单元1501" in ask.text and cases_of(street, NEW) == []
    done = wechat.send_text("是", openid=NEW)
    [case] = cases_of(street, NEW)
    assert case.compound.name == "马连道南口三区" and case.number in done.text


@pytest.mark.parametrize("answer,expected", [
    ("不对", render_text("intake/address_again", status="rejected", compound="")),
    ("火星小区1号楼", render_text("intake/address_again", status="unknown", compound="")),
    ("马连道南口三区99号楼1单元101", render_text("intake/address_again", status="unknown_building",
                                          compound="马连道南口三区", building="99")),
])
def test_unsure_address_is_asked_again(wechat, street, answer, expected):
    wechat.send_text("家里停电了", openid=NEW)
    wechat.send_text("马连道南口山区5号楼2单元1501", openid=NEW)
    assert wechat.send_text(answer, openid=NEW).text == expected
    assert cases_of(street, NEW) == []
    wechat.send_text("天宁寺北里6楼3门301", openid=NEW)
    assert [c.intent for c in cases_of(street, NEW)] == ["utility"]


def test_photo_after_report_attaches_to_case(wechat, street):
    wechat.send_text("楼上漏水了", openid=BOUND)
    reply = wechat.send_image(openid=BOUND, media_id="m-42")
    [case] = cases_of(street, BOUND)
    [photo] = events(street, case, "photo")
    assert photo.data == {"MediaId": "m-42", "PicUrl": "http://mmbiz.example/m-42.jpg"}
    assert case.number in reply.text


def test_photo_while_address_is_asked_joins_the_coming_case(wechat, street):
    wechat.send_text("楼道里堆满了杂物和纸箱", openid=NEW)
    wechat.send_image(openid=NEW, media_id="m-early")
    wechat.send_text("天宁寺北里6楼3门301", openid=NEW)
    [case] = cases_of(street, NEW)
    assert [e.data["MediaId"] for e in events(street, case, "photo")] == ["m-early"]


def test_details_after_report_are_added(wechat, street):
    wechat.send_text("楼上漏水了", openid=BOUND)
    reply = wechat.send_text("从昨天晚上开始的，在厨房", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert [e.note for e in events(street, case, "detail")] == ["从昨天晚上开始的，在厨房"]
    assert case.number in reply.text


def test_my_cases_lists_status(wechat, street):
    wechat.send_text("楼上漏水了", openid=BOUND)
    wechat.send_text("家里有蟑螂", openid=BOUND)
    reply = wechat.send_text("我的工单", openid=BOUND)
    for case in cases_of(street, BOUND):
        assert case.number in reply.text
    assert "待受理" in reply.text


def test_cancel_mid_dialogue_leaves_question_without_case(wechat, street):
    wechat.send_text("楼上漏水了", openid=NEW)
    assert wechat.send_text("取消", openid=NEW).text == render_text("intake/question_cancelled")
    wechat.send_text("马连道南口三区5号楼2单元1501", openid=NEW)  # no longer an answer: nothing opens
    assert cases_of(street, NEW) == []


def test_cancel_after_report_cancels_unaccepted_case(wechat, street, runner):
    wechat.send_text("楼上漏水了", openid=BOUND)
    wechat.send_text("取消", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.status == "cancelled" and [e.kind for e in events(street, case)] == ["created", "cancel"]
    wechat.send_text("家里有蟑螂", openid=BOUND)
    accepted = cases_of(street, BOUND)[1]
    assert runner.invoke(args=["case", "accept", accepted.number]).exit_code == 0
    assert accepted.number in wechat.send_text("取消", openid=BOUND).text
    assert cases_of(street, BOUND)[1].status == "in_progress"


def test_handoff_mid_dialogue_flags_case_and_stops_asking(wechat, street):
    wechat.send_text("楼上漏水了", openid=NEW)
    reply = wechat.send_text("人工", openid=NEW)
    [case] = cases_of(street, NEW)
    assert case.handoff and case.intent == "leak" and case.number in reply.text
    assert [e.kind for e in events(street, case)] == ["created", "handoff"]
    later = wechat.send_text("马连道南口三区5号楼2单元1501", openid=NEW)
    assert later.text == render_text("intake/handoff_note", case=case, department=label("department", case.department))
    assert len(cases_of(street, NEW)) == 1 and events(street, case)[-1].note == "马连道南口三区5号楼2单元1501"
    # no address, so no property company is known: the street's duty staff hear of it
    assert {row.openid for row in outbox(street, "staff")} == {"demo-staff-community-street"}


def test_handoff_of_bound_resident_notifies_department(wechat, street):
    wechat.send_text("家里有蟑螂", openid=BOUND)
    wechat.send_text("人工", openid=BOUND)
    keys = [row.key for row in outbox(street, "staff", "demo-staff-health")]
    assert len(keys) == 2 and ":new:" in keys[0] and ":handoff-" in keys[1]


def test_change_address(wechat, street):
    assert wechat.send_text("修改地址", openid=BOUND).text == render_text("intake/change_address")
    wechat.send_text("天宁寺北里6楼3门301", openid=BOUND)
    assert resident(street, BOUND).compound.name == "天宁寺北里"


def test_help_keeps_the_open_question(wechat, street):
    wechat.send_text("楼上漏水了", openid=NEW)
    assert wechat.send_text("帮助", openid=NEW).text == render_text("intake/help")
    wechat.send_text("天宁寺北里6楼3门301", openid=NEW)
    assert len(cases_of(street, NEW)) == 1


def test_retry_of_same_msgid_makes_one_case(wechat, street):
    first = wechat.send_text("楼上漏水了", openid=BOUND, msg_id=777001)
    again = wechat.send_text("楼上漏水了", openid=BOUND, msg_id=777001)
    assert first.text == again.text and len(cases_of(street, BOUND)) == 1


def test_same_intent_within_24h_joins_the_open_case(wechat, street):
    wechat.send_text("楼上漏水了", openid=BOUND)
    wechat.send_text("取消", openid=NEW)  # another resident: no effect on BOUND
    reply = wechat.send_text("卫生间又在渗水了", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.number in reply.text and events(street, case)[-1].kind in ("message", "detail")
    age_cases(street, BOUND, utcnow() - timedelta(hours=25))
    wechat.send_text("取消", openid=BOUND)  # leaves the details question; the old case is too old to join
    wechat.send_text("厨房水管漏水了", openid=BOUND)
    assert len(cases_of(street, BOUND)) == 2


def test_thanks_joins_open_case_instead_of_opening_one(wechat, street):
    wechat.send_text("楼上漏水了", openid=BOUND)
    wechat.send_text("帮助", openid=BOUND)
    reply = wechat.send_text("漏水已经修好了，谢谢", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert events(street, case)[-1].note == "漏水已经修好了，谢谢" and case.number in reply.text
    assert wechat.send_text("谢谢", openid="demo-resident-2").text == render_text("intake/courtesy")
    assert cases_of(street, "demo-resident-2") == []
    wechat.send_text("井盖丢了", openid="demo-resident-2")  # a hazard: the duty staff
    assert [(c.intent, c.department) for c in cases_of(street, "demo-resident-2")] == [("emergency", "community")]


def test_qr_subscribe_picks_the_compound(wechat, street):
    wechat.event("subscribe", openid=NEW, EventKey="qrscene_c-tnsbl")
    wechat.send_text("6楼3门301", openid=NEW)
    who = resident(street, NEW)
    assert (who.compound.name, who.building.name, who.unit, who.room) == ("天宁寺北里", "6", "3", "301")


def test_location_suggests_compound(wechat, street):
    wechat.send_text("楼道里堆满了杂物和纸箱", openid=NEW)
    reply = wechat.send("location", {"Location_X": "39.8913", "Location_Y": "116.3399", "Scale": "15",
                                     "Label": "x"}, openid=NEW)
    assert "天宁寺北里" in reply.text
    wechat.send_text("6号楼3单元301", openid=NEW)
    wechat.send_text("是", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.compound.name, case.intent) == ("天宁寺北里", "clutter")


def test_idle_dialogue_expires_without_losing_the_case(app, wechat, street):
    wechat.send_text("楼上漏水了", openid=BOUND)
    store, key = services(app).redis, f"mulin:dialogue:{BOUND}"
    assert 0 < store.ttl(key) <= 30 * 60
    store.delete(key)  # what the TTL does after 30 idle minutes
    [case] = cases_of(street, BOUND)
    assert case.number in wechat.send_text("我的工单", openid=BOUND).text


@pytest.mark.parametrize("fields,detail", [
    ({"MediaId": "v-1", "Format": "amr"}, None),
    ({"MediaId": "v-1", "Format": "amr", "Recognition": "从昨天晚上开始的"}, "从昨天晚上开始的"),
])
def test_voice_after_report_attaches(wechat, street, fields, detail):
    wechat.send_text("楼上漏水了", openid=BOUND)
    wechat.send("voice", fields, openid=BOUND)
    [case] = cases_of(street, BOUND)
    [voice] = events(street, case, "voice")
    assert voice.data["MediaId"] == "v-1"
    assert [e.note for e in events(street, case, "detail")] == ([detail] if detail else [])


def test_photo_without_any_case_is_only_acknowledged(wechat, street):
    reply = wechat.send_image(openid=BOUND)
    assert reply.text == render_text("media_ack", kind=render_text("intake/media_kind", kind="photo"), count=1)
    assert "一起登记" in reply.text  # the photo waits for the words
    assert cases_of(street, BOUND) == []


def test_the_address_after_an_emergency_places_the_second_problem_of_the_report_too(wechat, street):
    """"楼上漏水把我家电线泡了，插座冒火花" opens the emergency and the leak before the address is known; the address
    the resident then gives is both cases' (the leak's property company must know where to go)."""
    wechat.send_text("楼上漏水把我家电线泡了，墙上插座还冒火花", openid=NEW)
    emergency_case, leak = cases_of(street, NEW)
    assert (emergency_case.intent, leak.intent) == ("emergency", "leak") and leak.building_id is None
    reply = wechat.send_text("马连道南口三区2号楼1单元302", openid=NEW)
    street.expire_all()
    for case in (emergency_case, leak):
        assert (case.compound.name, case.building.name, case.unit, case.room) == ("马连道南口三区", "2", "1", "302")
    assert emergency_case.number in reply.text and leak.number in reply.text
    told = [row.key for row in outbox(street, "staff") if row.key.startswith(f"staff:{leak.id}:property:place:")]
    assert told  # the property company hears of the leak now that it has a place
    assert len(cases_of(street, NEW)) == 2


def test_a_correction_moves_only_the_cases_at_the_old_place(wechat, street):
    """A report naming two problems, then "不对，是3号楼": both cases move; a case of another moment stays."""
    wechat.send_text("暖气不热", openid=BOUND)
    age_cases(street, BOUND, utcnow() - timedelta(hours=2))
    wechat.send_text("楼上漏水，还有蟑螂", openid=BOUND)
    earlier, leak, pest = cases_of(street, BOUND)
    assert (earlier.intent, leak.intent, pest.intent) == ("utility", "leak", "pest")
    reply = wechat.send_text("不对，是3号楼", openid=BOUND)
    street.expire_all()
    assert (leak.building.name, pest.building.name, earlier.building.name) == ("3", "3", "5")
    assert leak.number in reply.text and pest.number in reply.text and earlier.number not in reply.text


def test_a_greeting_with_the_compound_then_the_building_and_the_problem_then_the_door(wechat, street):
    """"你好，我住天宁寺北里" names the compound (a greeting first is no 其他诉求); "6号楼的暖气不热" then is the
    building and the report at once (the heating was dropped once the address was read); the door completes it."""
    first = wechat.send_text("你好，我住天宁寺北里", openid=NEW)
    assert "天宁寺北里" in first.text and "其他诉求" not in first.text and cases_of(street, NEW) == []
    reply = wechat.send_text("6号楼的暖气不热，家里才十四度", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.intent, case.compound.name, case.building.name) == ("utility", "天宁寺北里", "6")
    assert case.number in reply.text and "暖气不热" in case.text
    wechat.send_text("3单元201", openid=NEW)
    street.expire_all()
    [case] = cases_of(street, NEW)
    assert (case.unit, case.room) == ("3", "201")
    assert (resident(street, NEW).building.name, resident(street, NEW).room) == ("6", "201")
