"""Issue 12, round 2, through the signed webhook: a case called off in own words (cancelled, or its staff told when
it is an emergency), a voice message without recognised words (a case a person listens to), a rating that goes on
to a new problem after 不过/但是 (both recorded)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import utcnow
from bot.constants import Satisfaction
from bot.domain.cases import transition
from scheduler.runner import run_once
from tests.helpers_intake import BOUND, cases_of, events, outbox


@pytest.mark.parametrize("words", ["不弄了，没事了", "算了不用来了", "已经自己弄好了，不用来了", "甭来了，自己修好了"])
def test_a_case_called_off_in_own_words_is_cancelled(street, wechat, words) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼道里堆了好多纸箱子", openid=BOUND)
    [case] = cases_of(street, BOUND)
    reply = wechat.send_text(words, openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.status == "cancelled" and case.number in reply.text and "已撤销" in reply.text
    assert [e.note for e in events(street, case, "message")] == [words]


def test_a_bare_no_thanks_after_the_report_cancels_nothing(street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼道里堆了好多纸箱子", openid=BOUND)
    wechat.send_text("不用了", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.status == "open"


def test_an_emergency_called_off_goes_to_its_staff_not_cancelled(street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("闻到煤气味了", openid=BOUND)
    [case] = cases_of(street, BOUND)
    reply = wechat.send_text("没事了，是锅糊了", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert case.status == "open" and "转告" in reply.text
    [message] = events(street, case, "message")
    told = [r for r in outbox(street, "staff") if f":withdraw-{message.id}:" in r.key]
    assert told and "【居民说不用办了】" in told[0].payload["text"] and "是锅糊了" in told[0].payload["text"]


def test_a_voice_without_words_opens_a_case_a_person_listens_to(street, wechat) -> None:  # type: ignore[no-untyped-def]
    reply = wechat.send("voice", {"MediaId": "v-elder", "Format": "amr"}, openid="o-elder-voice")
    [case] = cases_of(street, "o-elder-voice")
    assert case.intent == "other" and case.handoff is True
    assert "收听" in reply.text and "文字" not in reply.text
    [voice] = events(street, case, "voice")
    assert voice.data["MediaId"] == "v-elder"
    assert {r.openid for r in outbox(street, "staff")} >= {"demo-staff-community-street"}
    again = wechat.send("voice", {"MediaId": "v-elder-2", "Format": "amr"}, openid="o-elder-voice")
    assert cases_of(street, "o-elder-voice") == [case] and "工作人员会收听" in again.text
    assert len(events(street, case, "voice")) == 2


def test_a_rating_that_goes_on_to_a_new_problem_records_both(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("卫生间顶上渗水", openid=BOUND)
    [leak] = cases_of(street, BOUND)
    now = utcnow()
    transition(street, leak, "resolve", actor="staff", now=now)
    street.commit()
    run_once(app, now + timedelta(hours=25))
    reply = wechat.send_text("漏水修好了挺满意，不过厨房最近有蟑螂", openid=BOUND)
    leak, pest = cases_of(street, BOUND)
    assert leak.satisfaction == Satisfaction.SATISFIED and leak.status == "closed"
    assert pest.intent == "pest" and pest.text == "厨房最近有蟑螂"
    assert leak.number in reply.text and pest.number in reply.text


def test_a_rating_before_but_is_recorded_and_the_rest_reported(app, street, wechat) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼上漏水，顶棚一直滴水", openid=BOUND)
    [leak] = cases_of(street, BOUND)
    now = utcnow()
    transition(street, leak, "resolve", actor="staff", now=now)
    street.commit()
    run_once(app, now + timedelta(hours=25))
    reply = wechat.send_text("修好了，但是楼道里又堆满了", openid=BOUND)
    leak, clutter = cases_of(street, BOUND)
    assert leak.satisfaction == Satisfaction.SATISFIED and leak.status == "closed"
    assert clutter.intent == "clutter" and clutter.number in reply.text
