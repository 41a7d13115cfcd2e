"""Conversations as residents write them (issue 12): each test is one resident's messages through the webhook."""
from __future__ import annotations

import pytest

from bot.messaging.texts import render_text
from tests.helpers_intake import BOUND, cases_of, events, outbox, resident

NEW = "o-writes-freely"


def test_the_address_inside_the_complaint_is_used(wechat, street):
    reply = wechat.send_text("我家在马连道南口三区2号楼，卫生间水管裂了，水一直往外冒", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.intent, case.compound.name, case.building.name) == ("leak", "马连道南口三区", "2")
    assert case.number in reply.text and "请告诉我们您的地址" not in reply.text


def test_the_compound_in_one_message_and_the_building_in_the_next(wechat, street):
    asked = wechat.send_text("我是天宁寺北里的，楼上又往下渗水了", openid=NEW)
    assert "天宁寺北里几号楼" in asked.text and cases_of(street, NEW) == []
    done = wechat.send_text("4号楼", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.intent, case.compound.name, case.building.name) == ("leak", "天宁寺北里", "4")
    assert case.number in done.text
    assert "漏水安全提示" in asked.text and "漏水安全提示" not in done.text  # the advice once, not twice


def test_the_compound_named_while_asked_is_kept_for_the_building(wechat, street):
    wechat.send_text("楼道里堆满了杂物和纸箱", openid=NEW)
    again = wechat.send_text("马连道南口三区", openid=NEW)
    assert "马连道南口三区几号楼" in again.text
    wechat.send_text("6号楼1单元302", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.compound.name, case.building.name, case.unit, case.room) == ("马连道南口三区", "6", "1", "302")


def test_a_room_in_chinese_numerals_is_kept(wechat, street):
    wechat.send_text("家里有老鼠", openid=NEW)
    wechat.send_text("茶马南街1号院二号楼一单元五零二", openid=NEW)
    who = resident(street, NEW)
    assert (who.compound.name, who.building.name, who.unit, who.room) == ("茶马南街1号院", "2", "1", "502")
    assert cases_of(street, NEW)[0].room == "502"


def test_a_public_area_needs_no_door_number(wechat, street):
    first = wechat.send_text("茶马南街1号院后边有人在盖小房", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.intent, case.compound.name, case.building) == ("construction", "茶马南街1号院", None)
    assert case.department == "enforcement" and case.number in first.text and "几号楼" not in first.text
    second = wechat.send_text("说不上门牌号，就在院子后头", openid=NEW)
    assert case.number in second.text and "几号楼" not in second.text
    assert [e.note for e in events(street, case, "detail")] == ["说不上门牌号，就在院子后头"]


def test_a_public_area_report_is_opened_once_the_compound_is_known(wechat, street):
    asked = wechat.send_text("楼顶上有人在盖小房子", openid=NEW)
    assert cases_of(street, NEW) == [] and "地址" in asked.text
    done = wechat.send_text("茶马南街1号院", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.intent, case.compound.name, case.building) == ("construction", "茶马南街1号院", None)
    assert case.number in done.text


def test_a_story_about_the_own_kitchen_still_asks_for_the_building(wechat, street):
    # "厨房顶上" holds 房顶 (a roof, a shared place) but names the resident's own home: the door number is needed
    wechat.send_text("我家厨房顶上一直往下滴水，楼上好像没人在家，我岁数大了不知道找谁", openid=NEW)
    asked = wechat.send_text("马连道南口三区", openid=NEW)
    assert cases_of(street, NEW) == [] and "马连道南口三区几号楼" in asked.text and "公共区域" not in asked.text
    done = wechat.send_text("三号楼二单元五零二", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.compound.name, case.building.name, case.unit, case.room) == ("马连道南口三区", "3", "2", "502")
    assert case.number in done.text


def test_no_dead_end_after_two_answers_without_an_address(wechat, street):
    wechat.send_text("家里漏水", openid=NEW)
    again = wechat.send_text("就路口那栋", openid=NEW)
    assert cases_of(street, NEW) == [] and "地址" in again.text
    done = wechat.send_text("你们来了我指给你看", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.intent, case.text, case.building) == ("leak", "家里漏水", None)
    assert case.number in done.text and render_text("intake/address_later") in done.text
    assert [e.note for e in events(street, case, "place")] == ["就路口那栋；你们来了我指给你看"]
    assert {row.openid for row in outbox(street, "staff")} == {"demo-staff-community-street"}  # a person calls back


def test_a_greeting_is_not_a_complaint(wechat, street):
    reply = wechat.send_text("您好", openid=NEW)
    assert reply.text == render_text("intake/greeting", street="示例街道")
    assert wechat.send_text("有人吗", openid=NEW).text == reply.text
    assert cases_of(street, NEW) == []
    assert "地址" in wechat.send_text("楼上漏水了", openid=NEW).text  # a complaint afterwards is taken in as usual


@pytest.mark.parametrize("question,answer", [
    ("社区电话是多少", "faq/contact"),
    ("周六你们办公吗", "faq/hours"),
    ("睦邻坊是干什么的", "faq/mulinfang"),
    ("你们这个能做什么？", "faq/about"),
])
def test_a_question_is_answered_without_a_case(wechat, street, question, answer):
    reply = wechat.send_text(question, openid=NEW)
    assert reply.text == render_text(answer, street="示例街道", contact="街道服务热线 010-12345678")
    assert cases_of(street, NEW) == []


def test_a_question_nobody_wrote_an_answer_for_goes_to_a_person(wechat, street):
    reply = wechat.send_text("我家孩子入学的材料该找谁盖章呢", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.intent, case.department) == ("other", "community")
    assert case.number in reply.text and "请告诉我们您的地址" not in reply.text


def test_the_faq_is_checked_when_mulin_starts(tmp_path):
    from handlers.conversation.faq import FaqError, load_faq
    broken = tmp_path / "faq.yaml"
    broken.write_text("- {answer: faq/no-such-answer, words: [电话]}\n", encoding="utf-8")
    with pytest.raises(FaqError, match="no-such-answer"):
        load_faq(broken)
    assert load_faq().answer_for("社区电话是多少") == "faq/contact"


def test_in_an_emergency_the_first_screen_says_what_to_do_now(wechat, street):
    first = wechat.send_text("闻着像是燃气漏了", openid=NEW)
    assert first.text.startswith(render_text("safety/gas").splitlines()[0]) and "96777" in first.text.split("\n\n")[0]
    opened = wechat.send_text("马连道南口三区5号楼2单元1501", openid=NEW).text
    assert opened.index(cases_of(street, NEW)[0].number) < opened.index("燃气安全提示")  # advised already: case first
    known = wechat.send_text("闻到燃气味", openid=BOUND)
    assert known.text.startswith(render_text("safety/gas").splitlines()[0])
    assert cases_of(street, BOUND)[0].number in known.text
    ordinary = wechat.send_text("家里厨房有很多蟑螂", openid="demo-resident-2")
    assert ordinary.text.startswith("已为您登记工单")  # not an emergency: the case first, advice after


def test_only_the_advice_that_applies(wechat, street):
    power, water, _gas, heat = render_text("safety/utility").splitlines()[1:]
    heating = wechat.send_text("暖气不热", openid=BOUND).text
    assert heat in heating and power not in heating and water not in heating
    assert render_text("safety/utility").splitlines()[0] in heating  # its heading stays
    both = wechat.send_text("停水了，也停电了", openid="demo-resident-2").text
    assert power in both and water in both


def test_two_problems_in_one_message_are_both_routed(wechat, street):
    reply = wechat.send_text("厨房顶上渗水，另外楼梯上全是邻居的破烂", openid=BOUND)
    leak, clutter = cases_of(street, BOUND)
    assert (leak.intent, leak.department, clutter.intent, clutter.department) == (
        "leak", "property", "clutter", "community")
    assert clutter.text == leak.text and leak.number in reply.text and clutter.number in reply.text
    assert reply.text.index(leak.number) < reply.text.index(clutter.number)  # the more urgent one leads
    assert {row.openid for row in outbox(street, "staff")} >= {"demo-staff-property-1", "demo-staff-community-1"}


def test_a_photo_sent_before_the_words_joins_the_case_that_follows(wechat, street):
    wechat.send_image(openid=BOUND, media_id="m-first")
    wechat.send_text("楼道里堆满了杂物和纸箱", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert [e.data["MediaId"] for e in events(street, case, "photo")] == ["m-first"]
    wechat.send_image(openid=NEW, media_id="m-new")  # a new resident: kept through the address question too
    wechat.send_text("家里厨房有很多蟑螂", openid=NEW)
    wechat.send_text("天宁寺北里6楼3门301", openid=NEW)
    [pest] = cases_of(street, NEW)
    assert [e.data["MediaId"] for e in events(street, pest, "photo")] == ["m-new"]


def test_a_bungalow_address_does_not_loop(wechat, street):
    wechat.send_text("家里下水道堵了，污水往外冒", openid=NEW)
    asked = wechat.send_text("我住红莲南里平房区", openid=NEW)
    assert "红莲南里平房区" in asked.text
    done = wechat.send_text("就是2号院", openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.compound.name, case.building.name) == ("红莲南里平房区", "2") and case.number in done.text
