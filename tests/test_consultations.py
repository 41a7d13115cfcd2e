"""Consultations (征求意见): CLI, fan-out through the outbox, answers by chat, once per household, results."""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import create_app
from bot.clock import fmt_local, utcnow
from bot.services import services
from bot.storage.models import Case, Consultation, ConsultationReply, Outbox, Resident
from handlers.conversation.consultation_replies import parse
from scheduler.runner import run_once
from tests.conftest import AES_KEY, APPID, TOKEN
from tests.helpers_outreach import NOW, case, received, street, texts
from tests.wechat import WeChat

UNTIL = NOW + timedelta(days=3)
QUESTION = "加装电梯意见征集：是否同意在本楼加装电梯？"
ASKED = {f"o-和平里-{b}-{i}" for b in ("1", "2") for i in range(2)}


def create(runner, *args: str) -> int:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["consult", "create", "--question", QUESTION, "--until", fmt_local(UNTIL), *args])
    assert result.exit_code == 0, result.output
    return int(result.output.strip())


def same_flat(db, *openids: str) -> None:  # type: ignore[no-untyped-def]
    """Put residents in one flat (unit 1, room 301 of their building): one household."""
    for openid in openids:
        resident = db.scalars(select(Resident).where(Resident.openid == openid)).one()
        resident.unit, resident.room = "1", "301"
    db.commit()


def results(runner, consultation_id: int, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["consult", "results", str(consultation_id), *args])
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_from_creation_to_results(app, db, runner, standin, wechat) -> None:  # type: ignore[no-untyped-def]
    street(db)
    same_flat(db, "o-和平里-2-0", "o-和平里-2-1")
    cid = create(runner, "--compound", "和平里", "--buildings", "1,2", "--options", "同意,不同意")
    run_once(app, NOW)
    run_once(app, NOW + timedelta(minutes=1))  # a second run sends nothing again
    assert set(received(standin)) == ASKED and set(received(standin).values()) == {1}
    (question,) = texts(standin, "o-和平里-1-0")
    assert QUESTION in question and "1. 同意" in question and "2. 不同意" in question and fmt_local(UNTIL) in question

    first = wechat.send_text("1", openid="o-和平里-1-0").text
    assert "1. 同意" in first and "已记录" in first
    changed = wechat.send_text("我不同意", openid="o-和平里-1-0").text  # the latest answer stands
    assert "2. 不同意" in changed and "最新" in changed
    hint = wechat.send_text("5", openid="o-和平里-1-1").text  # out of range: a polite hint, nothing counted
    assert "1 到 2" in hint and "1. 同意" in hint
    wechat.send_text("选1", openid="o-和平里-1-1")
    wechat.send_text("同意", openid="o-和平里-2-0")  # one flat, two residents: counted once, latest answer
    wechat.send_text("第二项", openid="o-和平里-2-1")

    text = results(runner, cid)
    assert "1号楼：应参与 2 户，参与 2 户（100.0%），同意 1，不同意 1" in text
    assert "2号楼：应参与 1 户，参与 1 户（100.0%），同意 0，不同意 1" in text
    assert "合计：应参与 3 户，参与 3 户（参与率 100.0%）" in text
    assert "1. 同意：1 户（33.3%）" in text and "2. 不同意：2 户（66.7%）" in text
    rows = list(csv.reader(io.StringIO(results(runner, cid, "--csv").lstrip("\ufeff"))))
    assert rows[0] == ["楼栋", "应参与户数", "参与户数", "参与率", "同意", "不同意"]
    assert rows[-1] == ["合计", "3", "3", "100.0%", "1", "2"]

    before = len(standin.sent())
    run_once(app, UNTIL - timedelta(minutes=1))
    assert len(standin.sent()) == before  # still open
    run_once(app, UNTIL)
    run_once(app, UNTIL + timedelta(minutes=1))
    late = Counter(r["openid"] for r in standin.sent()[before:])
    assert late == Counter(ASKED)  # every participant once (a household's earlier voter too)
    message = texts(standin, "o-和平里-2-0")[-1]
    assert "征求意见结果" in message and "不同意：2 户" in message and "参与率 100.0%" in message
    assert db.get(Consultation, cid).status == "closed"
    listing = runner.invoke(args=["consult", "list"]).output
    assert f"#{cid} [已结束]" in listing and "参与 3/3 户" in listing


def test_other_messages_during_a_consultation_are_handled_as_usual(app, db, runner, standin, wechat) -> None:  # type: ignore[no-untyped-def]
    street(db)
    create(runner, "--compound", "和平里", "--buildings", "1", "--options", "同意,不同意")
    run_once(app, NOW)
    reply = wechat.send_text("楼道里堆满了纸箱和自行车", openid="o-和平里-1-0").text
    opened = db.scalars(select(Case).where(Case.openid == "o-和平里-1-0")).one()
    assert opened.intent == "clutter" and opened.number in reply
    assert not db.scalars(select(ConsultationReply)).all()


def test_residents_not_asked_are_not_counted(app, db, runner, standin, wechat) -> None:  # type: ignore[no-untyped-def]
    street(db)
    create(runner, "--compound", "和平里", "--buildings", "1", "--options", "同意,不同意")
    run_once(app, NOW)
    wechat.send_text("1", openid="o-和平里-6-0")  # building 6 was not asked: "1" is an ordinary message
    assert not db.scalars(select(ConsultationReply)).all()


def test_a_newer_followup_question_takes_the_number(app, db, runner, standin, wechat) -> None:  # type: ignore[no-untyped-def]
    street(db)
    create(runner, "--compound", "和平里", "--buildings", "1", "--options", "同意,不同意")
    run_once(app, NOW)
    case(db, "20260302-0001", "o-和平里-1-0", status="resolved", created_at=NOW - timedelta(hours=30),
         resolved_at=NOW, first_response_at=NOW - timedelta(hours=29))
    run_once(app, NOW + timedelta(hours=24))  # the satisfaction question comes after the consultation
    assert "20260302-0001" in wechat.send_text("1", openid="o-和平里-1-0").text
    assert not db.scalars(select(ConsultationReply)).all()
    assert "1. 同意" in wechat.send_text("同意", openid="o-和平里-1-0").text  # an option's text is still an answer


@pytest.mark.parametrize("text, number", [
    ("1", 1), ("２", 2), ("选2", 2), ("我选第2项", 2), ("第二项", 2), ("二", 2), ("同意", 1), ("不同意", 2),
    ("我同意！", 1), ("7", 7), ("0", 0), ("好的", None), ("楼上漏水", None), ("", None),
])
def test_parse(text: str, number: int | None) -> None:
    assert parse(text, ["同意", "不同意"]) == number


@pytest.mark.parametrize("args, reason", [
    (["--compound", "和平里", "--options", "同意"], "2 到 6 个选项"),
    (["--compound", "和平里", "--options", "1,2,3,4,5,6,7"], "2 到 6 个选项"),
    (["--compound", "和平里", "--options", "同意,同意"], "不能重复"),
    (["--compound", "和平里", "--options", "1,2"], "不能只是一个数字"),
    (["--compound", "没有这个小区", "--options", "同意,不同意"], "没有名为“没有这个小区”的小区"),
    (["--options", "同意,不同意"], "二选一"),
])
def test_create_refuses_bad_input(app, db, runner, args: list[str], reason: str) -> None:  # type: ignore[no-untyped-def]
    street(db)
    result = runner.invoke(args=["consult", "create", "--question", QUESTION, "--until", fmt_local(UNTIL), *args])
    assert result.exit_code != 0 and "操作未完成" in result.output and reason in result.output
    assert not db.scalars(select(Consultation)).all() and not db.scalars(select(Outbox)).all()


def test_a_whole_community_is_asked(app, db, runner, standin, wechat) -> None:  # type: ignore[no-untyped-def]
    street(db)
    street(db, compound="安华里")
    street(db, compound="别处", community="其他社区")
    cid = create(runner, "--community", "和平社区", "--options", "周六上午,周日上午,都可以")
    run_once(app, NOW)
    assert len(received(standin)) == 12 and not any(o.startswith("o-别处") for o in received(standin))
    wechat.send_text("2", openid="o-和平里-1-0")
    wechat.send_text("都可以", openid="o-安华里-1-0")
    text = results(runner, cid)  # buildings of the same name in two compounds are kept apart
    assert "和平里1号楼：应参与 2 户，参与 1 户（50.0%），周六上午 0，周日上午 1，都可以 0" in text
    assert "安华里1号楼：应参与 2 户，参与 1 户（50.0%），周六上午 0，周日上午 0，都可以 1" in text
    assert "合计：应参与 12 户，参与 2 户（参与率 16.7%）" in text
    rows = list(csv.reader(io.StringIO(results(runner, cid, "--csv").lstrip("\ufeff"))))
    assert ["安华里1号楼", "2", "1", "50.0%", "0", "0", "1"] in rows


def test_answers_queued_in_a_burst_are_counted_by_the_scheduler(app, settings, db, runner, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)
    cid = create(runner, "--compound", "和平里", "--buildings", "1,2", "--options", "同意,不同意")
    run_once(app, NOW)
    busy = create_app({**settings, "INLINE_BUSY_LIMIT": 0.0})  # a saturated worker: it only stores messages
    try:
        pusher = WeChat(busy.test_client(), TOKEN, APPID, AES_KEY)
        for n, openid in enumerate(sorted(ASKED)):
            assert pusher.send_text("2", openid=openid, msg_id=9100 + n).body == "success"
        assert pusher.send_text("1", openid="o-和平里-1-0", msg_id=9200).body == "success"  # changes their mind
        assert not db.scalars(select(ConsultationReply)).all()
        before = len(standin.sent())
        run_once(app, utcnow())  # the replay answers in arrival order, as customer-service messages ...
        run_once(app, utcnow())  # ... which the next drain sends
    finally:
        services(busy).engine.dispose()
    late = [r for r in standin.sent()[before:] if r["openid"] in ASKED]
    assert len(late) == 5 and all("已记录" in (r["body"].get("text") or {}).get("content", "") for r in late)
    assert "1. 同意：1 户" in results(runner, cid) and "2. 不同意：3 户" in results(runner, cid)
