"""A retry that arrives while the first delivery is still being handled, after the lease: it waits for
the first one's reply and never runs the message again (issue 17, item 8)."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from bot.messaging import inbound
from bot.services import services
from bot.storage.models import InboundMessage
from tests.conftest import AES_KEY, APPID, TOKEN
from tests.wechat import WeChat


def test_a_retry_during_a_slow_first_handling_gets_its_reply(app, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(inbound, "LEASE", timedelta(seconds=0.2))  # WeChat's retry comes after the lease
    original = services(app).handler
    calls: list[str] = []
    started, finish = threading.Event(), threading.Event()

    def slow(session, msg, now):  # type: ignore[no-untyped-def]
        calls.append(msg.dedup_key)
        started.set()
        finish.wait(10)  # slow before its first write (a long classification, say)
        return original(session, msg, now)

    services(app).handler = slow
    pusher = WeChat(app.test_client(), TOKEN, APPID, AES_KEY)
    xml = pusher.xml("o-slow", "text", {"Content": "请问社区几点上班"}, msg_id=8801)
    replies: dict[str, str | None] = {}

    def push(name: str) -> None:
        replies[name] = WeChat(app.test_client(), TOKEN, APPID, AES_KEY).post(xml).text

    first = threading.Thread(target=push, args=("first",))
    first.start()
    assert started.wait(10)
    time.sleep(0.5)  # the first delivery's lease has expired; it is still handling
    retry = threading.Thread(target=push, args=("retry",))
    retry.start()
    time.sleep(0.5)  # the retry has arrived and found the message
    finish.set()
    first.join(30)
    retry.join(30)
    assert calls == ["o-slow:8801"]  # handled once
    assert replies["first"] and replies["retry"] == replies["first"]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(InboundMessage)) == 1
    assert db.scalars(select(InboundMessage)).one().status == "handled"


def test_a_worker_that_died_mid_handling_is_taken_over(app, db, wechat) -> None:  # type: ignore[no-untyped-def]
    """The row lock goes with the dead worker's transaction: the retry after the lease handles it."""
    from wechatpy import parse_message

    from bot.clock import utcnow
    xml = wechat.xml("o-died", "text", {"Content": "请问社区几点上班"}, msg_id=8802)
    row, first = inbound.store(db, inbound.from_wechat(parse_message(xml)), utcnow() - timedelta(seconds=10))
    assert first
    reply = wechat.post(xml)
    assert reply.text
    db.expire_all()
    assert db.get(InboundMessage, row.id).status == "handled"
