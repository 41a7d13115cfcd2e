"""Every reply in its context (issue 12, item 7): satisfaction answers, notice replies, chasing, 人工 and
物业不管 in the resident's own words, through the signed webhook (and the scheduler where it asks first)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import fmt_local, utcnow
from bot.domain.cases import transition
from bot.storage.models import Case
from handlers.understanding.replies import satisfaction_of
from scheduler.runner import run_once
from tests.helpers_intake import BOUND, cases_of, events, outbox
from tests.helpers_outreach import texts

H = timedelta(hours=1)


def resolved_and_asked(app, db, wechat, text: str = "楼上漏水，天花板一直往下滴水") -> Case:  # type: ignore[no-untyped-def]
    """The resident reports, staff resolve, the scheduler asks the follow-up question 24 hours later."""
    wechat.send_text(text, openid=BOUND)
    [case] = cases_of(db, BOUND)
    now = utcnow()
    transition(db, case, "resolve", actor="staff", now=now)
    db.commit()
    run_once(app, now + 25 * H)
    [case] = cases_of(db, BOUND)
    assert case.followup_state == "asked"
    return case


@pytest.mark.parametrize("answer, satisfaction, solved, status", [
    ("挺好的，师傅来得也快", "满意", True, "closed"),
    ("修好了谢谢", "满意", True, "closed"),
    ("还行吧", "基本满意", True, "closed"),
    ("凑合", "基本满意", True, "closed"),
    ("不太满意", "不满意", None, "open"),
    ("不是很好", "不满意", None, "open"),
    ("不满意，墙皮泡坏了谁管", "不满意", None, "open"),
    ("没弄好，昨天夜里又滴水了", "不满意", False, "open"),
    ("还是漏", "不满意", False, "open"),
])
def test_satisfaction_in_own_words(app, street, wechat, answer, satisfaction, solved, status) -> None:  # type: ignore[no-untyped-def]
    case = resolved_and_asked(app, street, wechat)
    reply = wechat.send_text(answer, openid=BOUND)
    [after] = cases_of(street, BOUND)  # the same case: no new one
    assert after.id == case.id and case.number in reply.text
    assert (after.satisfaction, after.solved, after.status) == (satisfaction, solved, status)
    assert [e.note for e in events(street, after, "followup_answer")] == [answer]
    if status == "open":
        [reopen] = events(street, after, "reopen")
        assert reopen.note == answer and after.reopen_count == 1
        assert answer in reply.text  # the reason is on the case, and the resident sees it was taken
        told = [r for r in outbox(street, "staff") if ":reopen-1:" in r.key]  # the department is told, with why
        assert told and all(f"说明：{answer}" in r.payload["text"] for r in told)
        assert after.followup_state is None  # asked again after the next resolution
    else:
        assert "感谢您的评价" in reply.text and after.followup_state == "answered"


def test_a_new_different_problem_while_asked_is_a_report(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    case = resolved_and_asked(app, street, wechat)
    reply = wechat.send_text("楼道里又堆满了纸箱子，没人管", openid=BOUND)
    first, clutter = cases_of(street, BOUND)
    assert first.id == case.id and (first.status, first.followup_state) == ("resolved", "asked")
    assert clutter.intent == "clutter" and clutter.number in reply.text
    # an explicit rating with it is still the answer
    wechat.send_text("满意", openid=BOUND)
    assert cases_of(street, BOUND)[0].satisfaction == "满意"


def test_a_long_account_of_the_same_problem_reopens_the_same_case(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    case = resolved_and_asked(app, street, wechat)
    long = ("师傅上周来过一次，说是楼上的管子接头松了，拧了拧就走了，结果没修好，昨天夜里又滴水了，"
            "卫生间顶上的墙皮都泡起来了，地上接了两盆水，老伴腿脚不好晚上起夜差点滑倒")
    wechat.send_text(long, openid=BOUND)
    [after] = cases_of(street, BOUND)
    assert after.id == case.id and (after.status, after.solved, after.reopen_count) == ("open", False, 1)


def test_praise_inside_a_long_new_report_is_no_rating(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    case = resolved_and_asked(app, street, wechat)
    long = ("上次的事办得挺好的，这回是另一件：我们单元一楼的住户在楼门口搭了个棚子放杂物，"
            "把消防通道都占了一半，晚上黑灯瞎火的老人出门很容易磕着碰着，麻烦你们来看看")
    wechat.send_text(long, openid=BOUND)
    first, *new = cases_of(street, BOUND)  # a new report (here two problems: the shed and the clutter)
    assert first.id == case.id and first.satisfaction is None and first.status == "resolved"
    assert new and new[0].text == long


def test_no_question_pending_praise_goes_to_intake(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND)
    wechat.send_text("还是漏", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.satisfaction is None and case.status == "open"


# --- chasing a case (催办) -------------------------------------------------------------------------------------

CHASES = ["说好的师傅呢", "等了一上午了还没人来", "之前报的那个漏水有人管吗", "怎么还没人联系我"]


@pytest.mark.parametrize("text", CHASES)
def test_chasing_gives_status_limit_and_holder_and_tells_staff(street, wechat, text) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND)
    [case] = cases_of(street, BOUND)
    reply = wechat.send_text(text, openid=BOUND)
    assert cases_of(street, BOUND) == [case]  # no new case, nothing "已补充"
    assert "已补充" not in reply.text
    for part in (case.number, "待受理", "物业公司", fmt_local(case.due_at)):
        assert part in reply.text
    [chase] = events(street, case, "chase")
    assert chase.note == text
    told = [r for r in outbox(street, "staff") if f":chase-{chase.id}:" in r.key]
    assert {r.openid for r in told} == {"demo-staff-property-1"}
    assert "【居民催办】" in told[0].payload["text"] and text in told[0].payload["text"]


def test_chasing_picks_the_case_it_names_else_the_latest_and_is_counted(street, wechat, console) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND)
    wechat.send_text("家里厨房有很多蟑螂", openid=BOUND)
    leak, pest = cases_of(street, BOUND)
    assert wechat.send_text("之前报的那个漏水有人管吗", openid=BOUND).text.count(leak.number) == 1
    assert pest.number in wechat.send_text("怎么还没人联系我", openid=BOUND).text
    reply = wechat.send_text("说好的漏水师傅呢", openid=BOUND)
    assert leak.number in reply.text and "第 2 次" in reply.text
    assert len(events(street, leak, "chase")) == 2 and len(events(street, pest, "chase")) == 1
    console.login()
    page = console.page(f"/console/cases/{leak.number}")
    assert "居民催办 2 次" in page


def test_chasing_with_no_open_case_is_an_ordinary_message(street, wechat) -> None:  # type: ignore[no-untyped-def]
    reply = wechat.send_text("等了一上午了还没人来", openid=BOUND)
    assert "催办" not in (reply.text or "")


def test_asking_after_an_earlier_report_with_none_on_record_says_so_and_opens_none(street, wechat) -> None:  # type: ignore[no-untyped-def]
    reply = wechat.send_text("我报的那个事怎么样了", openid=BOUND)
    assert "没有查到您在本服务号登记过的工单" in reply.text and "12345" in reply.text
    assert cases_of(street, BOUND) == []


def test_a_chase_naming_a_finished_case_names_it_and_registers_only_when_asked(street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND)
    [case] = cases_of(street, BOUND)
    transition(street, case, "resolve", actor="staff", now=utcnow())
    street.commit()
    reply = wechat.send_text("上次报的漏水修好了吗？", openid=BOUND)
    assert case.number in reply.text and "已办结" in reply.text and "回复“登记”" in reply.text
    assert cases_of(street, BOUND) == [case]
    wechat.send_text("登记", openid=BOUND)
    assert [c.intent for c in cases_of(street, BOUND)] == ["leak", "leak"]


@pytest.mark.parametrize("text", ["漏水修好了吗", "上次那个事解决了吗？"])
def test_asking_whether_it_was_fixed_is_no_rating(text: str) -> None:
    assert satisfaction_of(text) is None


# --- 人工 in any words ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("words", ["找真人", "转人工客服", "我要跟人说话", "别让机器回了", "我想跟真人说"])
def test_person_in_any_words_then_messages_are_pushed_to_staff(app, street, wechat, standin, words) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND)
    [case] = cases_of(street, BOUND)
    reply = wechat.send_text(words, openid=BOUND)
    assert cases_of(street, BOUND) == [case] and case.number in reply.text and "已转人工" in reply.text
    assert cases_of(street, BOUND)[0].handoff
    later = wechat.send_text("我下午三点以后在家，来之前打个电话", openid=BOUND)
    assert case.number in later.text and "物业公司" in later.text
    [message] = events(street, case, "message")
    assert message.note == "我下午三点以后在家，来之前打个电话"
    run_once(app, utcnow())  # the outbox is drained: the staff member really receives it
    pushed = texts(standin, "demo-staff-property-1")
    assert any("【居民留言】" in t and "我下午三点以后在家" in t for t in pushed)


def test_after_the_dialogue_expires_the_handed_off_case_still_reaches_staff(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    import redis

    wechat.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND)
    wechat.send_text("找真人", openid=BOUND)
    [case] = cases_of(street, BOUND)
    redis.Redis.from_url(app.config["REDIS_URL"]).flushdb()  # the dialogue state is gone (30 minutes later)
    wechat.send_text("师傅明天几点能到", openid=BOUND)
    assert cases_of(street, BOUND) == [case]
    assert [e.note for e in events(street, case, "message")] == ["师傅明天几点能到"]
    assert [r for r in outbox(street, "staff", "demo-staff-property-1") if ":message-" in r.key]


# --- the property company refused (物业不管) --------------------------------------------------------------------

@pytest.mark.parametrize("words", ["物业说不归他们管", "找过物业了，物业不管"])
def test_property_refused_moves_the_case_to_the_grid_worker(street, wechat, words) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.department == "property"
    reply = wechat.send_text(words, openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.department == "grid" and case.number in reply.text and "网格员" in reply.text
    [moved] = events(street, case, "reassign")
    assert (moved.note, moved.data, moved.actor) == (words, {"from": "property", "to": "grid"}, "resident")
    [told] = [r for r in outbox(street, "staff", "demo-staff-grid-1") if ":reassign-" in r.key]
    assert words in told.payload["text"]  # the grid worker reads why it came to them


def test_a_new_report_saying_the_property_refused_goes_to_the_grid_worker(street, wechat) -> None:  # type: ignore[no-untyped-def]
    reply = wechat.send_text("楼上漏水渗到我家，楼上租出去了，找过物业了，物业不管", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert (case.intent, case.department) == ("leak", "grid") and "网格员" in reply.text


def test_routing_refused_rule_only_moves_what_the_property_company_had(street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("家里厨房有很多蟑螂", openid=BOUND)
    wechat.send_text("物业说不归他们管", openid=BOUND)
    assert [c.department for c in cases_of(street, BOUND)][0] == "health"


# --- replies to a cleanup notice ------------------------------------------------------------------------------

def notice_sent(app, db, days: float = 3):  # type: ignore[no-untyped-def]
    """A cleanup notice for BOUND's building (马连道南口三区 5号楼), sent by the scheduler."""
    from bot.domain import notices

    now = utcnow()
    notice = notices.create_notice(db, compound="马连道南口三区", community=None, buildings=["5"],
                                   cleanup_at=now + timedelta(days=days), text="请清理楼道内的自行车和纸箱",
                                   actor="test", now=now)
    db.commit()
    run_once(app, now)
    assert [r.status for r in outbox(db, "notice", BOUND)] == ["sent"]
    return notice


def test_an_acknowledgement_is_recorded_against_the_notice(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import notice_replies

    notice = notice_sent(app, street)
    reply = wechat.send_text("好的，周末就挪走", openid=BOUND)
    assert cases_of(street, BOUND) == [] and "谢谢您的配合" in reply.text
    assert "消防" not in reply.text and fmt_local(notice.cleanup_at) in reply.text
    [ack] = notice_replies.replies_of(street, notice)
    assert (ack.kind, ack.text, ack.openid, ack.case_id) == ("ack", "好的，周末就挪走", BOUND, None)
    assert notice_replies.acknowledged(street, notice) == 1


def test_a_question_about_the_notice_goes_to_its_community(app, street, wechat, console) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import notice_replies

    notice = notice_sent(app, street)
    reply = wechat.send_text("那我的电动车停哪", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert (case.intent, case.department) == ("other", "community")  # never a 楼道堆物 case
    assert "那我的电动车停哪" in case.text and case.due_at <= notice.cleanup_at
    assert case.number in reply.text and "居委会" in reply.text and "消防" not in reply.text
    [question] = notice_replies.replies_of(street, notice)
    assert (question.kind, question.case_id) == ("question", case.id)
    assert events(street, case, "notice_question")[0].data == {"notice_id": notice.id}
    told = {r.openid for r in outbox(street, "staff")}
    assert "demo-staff-community-1" in told and "demo-staff-property-1" not in told
    console.login()
    page = console.page(f"/console/notices/{notice.id}")
    assert "那我的电动车停哪" in page and case.number in page


@pytest.mark.parametrize("text, intent", [
    ("楼道里邻居的纸箱子堆了半年了，一直没人管", "clutter"),
    ("楼上漏水了，天花板一直滴水", "leak"),
])
def test_a_real_complaint_still_opens_a_case(app, street, wechat, text, intent) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import notice_replies

    notice = notice_sent(app, street)
    wechat.send_text(text, openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.intent == intent and notice_replies.replies_of(street, notice) == []


def test_a_resident_the_notice_did_not_reach_gets_no_notice_answer(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import notice_replies

    notice = notice_sent(app, street)
    reply = wechat.send_text("那我的电动车停哪", openid="demo-resident-2")  # another compound
    assert notice_replies.replies_of(street, notice) == [] and "楼道清理" not in (reply.text or "")


def test_a_reply_after_the_notice_window_is_an_ordinary_message(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import notice_replies
    from bot.storage.models import Notice

    notice = notice_sent(app, street)
    row = street.get(Notice, notice.id)
    row.cleanup_at = utcnow() - timedelta(hours=25)  # the cleanup was yesterday and a bit
    street.commit()
    wechat.send_text("好的，周末就挪走", openid=BOUND)
    assert notice_replies.replies_of(street, notice) == []


@pytest.mark.parametrize("text", ["社区客服电话是多少", "人工草坪坏了一大片"])
def test_words_near_handoff_are_not_a_handoff(street, wechat, text) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text(text, openid=BOUND)
    assert not any(c.handoff for c in cases_of(street, BOUND))


def test_the_words_file_loads_and_reads_negation() -> None:
    from handlers.understanding import replies

    replies.words.cache_clear()
    assert replies.satisfaction_of("不是很满意") == ("不满意", None)
    assert replies.satisfaction_of("挺不错的") == ("满意", True)
    assert replies.satisfaction_of("今天天气") is None
    assert replies.notice_reply_kind("好的，周末就挪走") == "ack"
    assert replies.notice_reply_kind("那我的电动车停哪") == "question"
    assert replies.notice_reply_kind("邻居的纸箱子堆了半年了") is None


@pytest.mark.parametrize("edit, message", [
    (("chase: [", "chase: []\nold_chase: ["), "chase needs a list"),
    (("chase_max_chars: 40", "chase_max_chars: -1"), "chase_max_chars must be a positive number"),
    (("satisfaction:", "satisfaction: [\n"), "cannot read"),
])
def test_a_broken_words_file_is_named(tmp_path, edit, message) -> None:  # type: ignore[no-untyped-def]
    from handlers.understanding import replies

    broken = tmp_path / "replies.yaml"
    broken.write_text(replies.REPLIES_PATH.read_text(encoding="utf-8").replace(*edit, 1), encoding="utf-8")
    with pytest.raises(replies.RepliesError, match=message):
        replies.words(broken)


def test_an_open_address_question_is_answered_before_the_notice(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import notice_replies

    notice = notice_sent(app, street)
    wechat.send_text("修改地址", openid=BOUND)
    wechat.send_text("马连道南口山区5号楼2单元1501", openid=BOUND)  # a typo: "是这个地址吗？"
    reply = wechat.send_text("好的", openid=BOUND)
    assert notice_replies.replies_of(street, notice) == [] and "谢谢您的配合" not in (reply.text or "")
    assert "马连道南口三区5号楼2单元1501" in reply.text


def test_a_question_about_renovation_works_is_no_chase(street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND)
    [case] = cases_of(street, BOUND)
    wechat.send_text("小区改造进度怎么样了", openid=BOUND)  # the projects' answer, not the leak's standing
    assert events(street, case, "chase") == []
