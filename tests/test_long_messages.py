"""One very long message is answered in time and delays nobody: bounded classification, address and replay."""
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from bot import create_app
from bot.clock import utcnow
from bot.services import services
from bot.storage.models import InboundMessage
from handlers.understanding.classifier import load_classifier
from handlers.understanding.lexicon import DEFAULT_PATH
from scheduler import replay_jobs
from scheduler.jobs import replay_inbound
from tests.conftest import AES_KEY, APPID, TOKEN
from tests.helpers_intake import BOUND, cases_of, outbox
from tests.wechat import WeChat

WECHAT_DEADLINE = 5.0  # seconds WeChat waits for an answer; the bug took 30+ s and killed the worker
NEIGHBOUR = "demo-resident-2"  # 天宁寺北里 6号楼3门301
STORY = "楼上邻居家的水管坏了，水一直往我家天花板上渗。"
LONG = {
    "keyword then 60,000 letters": "楼上漏水" + "a" * 60000,
    "60,000 letters and digits": "a1" * 30000,
    # three bytes a character in UTF-8: about 21,000 fit the 64 KiB body limit
    "a long Chinese story": (STORY * 1000)[:21000],
}


@pytest.fixture
def busy(settings: dict[str, object]) -> Iterator[Flask]:
    """A saturated web worker on the same database and Redis: it queues every message."""
    application = create_app({**settings, "INLINE_BUSY_LIMIT": 0.0})
    yield application
    services(application).engine.dispose()


def _stored(db, openid: str) -> list[InboundMessage]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return list(db.scalars(select(InboundMessage).where(InboundMessage.openid == openid)
                           .order_by(InboundMessage.id)).all())


def _timed(call, *args, **kwargs):  # type: ignore[no-untyped-def]
    """(result, seconds) of one call."""
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


def test_classifier_reads_a_60000_character_run_quickly(tmp_path: Path) -> None:
    result, seconds = _timed(load_classifier().classify, "楼上漏水" + "a" * 60000)
    assert result.intent == "leak" and seconds < 2
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["settings"]["max_chars"] = 100000  # the whole run: the scan itself must be linear, not only the cut
    path = tmp_path / "keywords.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    whole = load_classifier(path)
    for text in ("楼上漏水" + "a" * 60000, "1" * 60000, (STORY * 3000)[:60000]):
        result, seconds = _timed(whole.classify, text)
        assert seconds < 2, (text[:10], seconds)  # generous: 10,000 characters took 40-70 s before
    assert whole.classify("a" * 60000 + "楼上漏水").intent == "leak"


@pytest.mark.parametrize("text", LONG.values(), ids=LONG.keys())
def test_long_message_is_answered_in_time_and_stored_whole(wechat: WeChat, street, text: str) -> None:  # type: ignore[no-untyped-def]
    reply, seconds = _timed(wechat.send_text, text, openid=BOUND)
    assert reply.status == 200 and seconds < WECHAT_DEADLINE
    [case] = cases_of(street, BOUND)
    assert case.number in reply.text and case.text == text
    [row] = _stored(street, BOUND)
    assert row.status == "handled" and row.content == text  # the full text, not the classified part

    other, seconds = _timed(wechat.send_text, "家里厨房有好多蟑螂", openid=NEIGHBOUR)
    assert other.status == 200 and seconds < WECHAT_DEADLINE
    [theirs] = cases_of(street, NEIGHBOUR)
    assert theirs.intent == "pest" and theirs.number in other.text


def test_long_address_answer_is_answered_in_time(wechat: WeChat, street) -> None:  # type: ignore[no-untyped-def]
    new = "o-long-address"
    assert "地址" in wechat.send_text("楼上漏水了", openid=new).text
    reply, seconds = _timed(wechat.send_text, "马连道南口三区5号楼2单元1501，" + "1" * 60000, openid=new)
    assert reply.status == 200 and seconds < WECHAT_DEADLINE
    [case] = cases_of(street, new)
    assert case.intent == "leak" and case.building.name == "5" and case.number in reply.text


def test_queued_long_message_does_not_hold_up_the_next_resident(app, busy, street) -> None:  # type: ignore[no-untyped-def]
    pusher = WeChat(busy.test_client(), TOKEN, APPID, AES_KEY)
    for text in LONG.values():
        assert pusher.send_text(text, openid=BOUND).body == "success"
    assert pusher.send_text("家里厨房有好多蟑螂", openid=NEIGHBOUR).body == "success"
    replayed, seconds = _timed(replay_inbound, app, utcnow())
    assert replayed == {"replayed": 4} and seconds < WECHAT_DEADLINE  # 46 s for one 10,000-character message before
    assert [r.status for r in _stored(street, BOUND)] == ["handled"] * 3
    [theirs] = cases_of(street, NEIGHBOUR)
    [answer] = outbox(street, "reply", NEIGHBOUR)
    assert theirs.intent == "pest" and theirs.number in answer.payload["text"]


def test_failing_message_is_marked_failed_and_the_queue_moves_on(app, busy, street) -> None:  # type: ignore[no-untyped-def]
    services(app).redis.set(f"mulin:dialogue:{BOUND}", "{not json")  # a state nobody can read
    pusher = WeChat(busy.test_client(), TOKEN, APPID, AES_KEY)
    pusher.send_text("楼上漏水" + "a" * 60000, openid=BOUND)
    pusher.send_text("家里厨房有好多蟑螂", openid=NEIGHBOUR)
    assert replay_inbound(app, utcnow()) == {"replayed": 2}
    [failed] = _stored(street, BOUND)
    assert failed.status == "failed" and failed.error == "JSONDecodeError"
    [sorry] = outbox(street, "reply", BOUND)
    assert sorry.payload["text"] == failed.reply and "抱歉" in failed.reply  # the resident hears something
    assert [r.status for r in _stored(street, NEIGHBOUR)] == ["handled"] and cases_of(street, NEIGHBOUR)
    assert replay_inbound(app, utcnow() + timedelta(minutes=2)) == {"replayed": 0}  # not tried again and again


def test_a_failing_message_in_a_batch_leaves_the_others_answered_once(app, busy, street) -> None:  # type: ignore[no-untyped-def]
    """The scheduler answers a chunk in one transaction; one message that fails rolls it back, and each message is
    then answered on its own: the others once each, the failing one with the apology."""
    services(app).redis.set(f"mulin:dialogue:{BOUND}", "{not json")  # a state nobody can read
    pusher = WeChat(busy.test_client(), TOKEN, APPID, AES_KEY)
    pusher.send_text("家里厨房有好多蟑螂", openid=NEIGHBOUR)
    pusher.send_text("楼上漏水", openid=BOUND)
    pusher.send_text("楼道里堆满了纸箱子", openid="o-batch-third")  # a new resident: asked the address
    assert replay_inbound(app, utcnow() + replay_jobs.ARRIVING) == {"replayed": 3}  # a quiet queue: one transaction
    assert [r.status for r in _stored(street, BOUND)] == ["failed"] and cases_of(street, BOUND) == []
    [theirs] = cases_of(street, NEIGHBOUR)
    [answer] = outbox(street, "reply", NEIGHBOUR)
    assert theirs.intent == "pest" and theirs.number in answer.payload["text"]
    [asked] = outbox(street, "reply", "o-batch-third")
    assert "地址" in asked.payload["text"] and len(outbox(street, "reply", BOUND)) == 1
    assert replay_inbound(app, utcnow() + timedelta(minutes=2)) == {"replayed": 0}
    assert services(app).redis.get(f"mulin:dialogue:{BOUND}") == b"{not json"  # nothing written for the failed one


def test_replay_claims_no_more_chunks_past_its_budget(app, busy, street) -> None:  # type: ignore[no-untyped-def]
    pusher = WeChat(busy.test_client(), TOKEN, APPID, AES_KEY)
    openids = [f"o-budget-{i:02}" for i in range(replay_jobs.CLAIM_CHUNK + 2)]
    for openid in openids:
        pusher.send_text("请问社区几点上班", openid=openid)
    assert replay_jobs.replay(app, utcnow(), budget=timedelta(0)) == replay_jobs.CLAIM_CHUNK  # first chunk only
    assert [_stored(street, o)[0].status for o in openids[-2:]] == ["queued", "queued"]
    assert replay_jobs.replay(app, utcnow()) == 2  # the next run goes on
