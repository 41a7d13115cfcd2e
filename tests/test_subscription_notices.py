"""Subscription notices (订阅通知, issue 14 item 2): residents' answers come in as subscribe_msg_* events
through the signed webhook; the outbox chooses per resident: customer-service message inside 48 hours →
subscription notice if accepted → template message → not reachable, recorded with the reason."""
from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import utcnow
from bot.messaging import outbox
from bot.services import services
from bot.storage.models import Outbox, Resident, Subscription
from scheduler.jobs import drain_bulk
from tests.conftest import AES_KEY, APPID, TOKEN
from tests.wechat import WeChat

NOTICES = """
notice:
  template_id: sub-notice
  fields:
    thing1: "{{ street }}楼道清理通知"
    thing2: "{{ text | first_line }}"
"""


@pytest.fixture
def sub_app(settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    from bot import create_app
    path = tmp_path / "subscriptions.yaml"
    path.write_text(NOTICES, encoding="utf-8")
    application = create_app({**settings, "WECHAT_SUBSCRIPTIONS_PATH": str(path), "STREET_NAME": "广安门外街道"})
    yield application
    services(application).engine.dispose()


def answer(application, openid: str, event: str, *answers: tuple[str, str]) -> int:  # type: ignore[no-untyped-def]
    """Push a subscribe_msg_popup_event / subscribe_msg_change_event like WeChat."""
    block = "SubscribeMsgPopupEvent" if event == "subscribe_msg_popup_event" else "SubscribeMsgChangeEvent"
    items = "".join(f"<List><TemplateId><![CDATA[{t}]]></TemplateId><SubscribeStatusString><![CDATA[{s}]]>"
                    f"</SubscribeStatusString><PopupScene>2</PopupScene></List>" for t, s in answers)
    xml = (f"<xml><ToUserName><![CDATA[gh_mulin]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
           f"<Event><![CDATA[{event}]]></Event><{block}>{items}</{block}></xml>")
    return WeChat(application.test_client(), TOKEN, APPID, AES_KEY).post(xml).status


def resident(db, openid: str, hours_ago: float | None) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    db.add(Resident(openid=openid, created_at=now, subscribed=True,
                    last_inbound_at=now - timedelta(hours=hours_ago) if hours_ago is not None else None))
    db.commit()


def notice_to(db, openid: str, text: str = "本周五上午集中清理楼道堆物") -> None:  # type: ignore[no-untyped-def]
    outbox.enqueue(db, key=f"notice:{openid}", openid=openid, purpose="notice", text=text, now=utcnow())
    db.commit()


def row(db, openid: str) -> Outbox:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalars(select(Outbox).where(Outbox.openid == openid)).one()


def test_answers_from_the_popup_and_later_changes_are_recorded(sub_app, db) -> None:  # type: ignore[no-untyped-def]
    assert answer(sub_app, "o-s", "subscribe_msg_popup_event", ("sub-notice", "accept"), ("other", "reject")) == 200
    db.expire_all()
    got = {(s.template_id, s.status) for s in db.scalars(select(Subscription).where(Subscription.openid == "o-s"))}
    assert got == {("sub-notice", "accept"), ("other", "reject")}
    assert answer(sub_app, "o-s", "subscribe_msg_change_event", ("sub-notice", "reject")) == 200
    db.expire_all()
    assert db.scalars(select(Subscription.status).where(Subscription.template_id == "sub-notice")).one() == "reject"


def test_a_resident_who_accepted_gets_a_subscription_notice(sub_app, db, standin) -> None:  # type: ignore[no-untyped-def]
    resident(db, "o-acc", hours_ago=72)
    answer(sub_app, "o-acc", "subscribe_msg_popup_event", ("sub-notice", "accept"))
    db.execute(Resident.__table__.update().values(last_inbound_at=utcnow() - timedelta(hours=72)))  # long ago
    db.commit()
    notice_to(db, "o-acc")
    drain_bulk(sub_app, utcnow())
    [sent] = standin.sent()
    assert sent["kind"] == "subscribe" and sent["body"]["template_id"] == "sub-notice"
    assert sent["body"]["data"] == {"thing1": {"value": "广安门外街道楼道清理通知"},
                                    "thing2": {"value": "本周五上午集中清理楼道堆物"}}
    assert (row(db, "o-acc").status, row(db, "o-acc").channel) == ("sent", "subscribe")


def test_inside_the_window_a_customer_service_message_comes_first(sub_app, db, standin) -> None:  # type: ignore[no-untyped-def]
    resident(db, "o-win", hours_ago=1)
    answer(sub_app, "o-win", "subscribe_msg_popup_event", ("sub-notice", "accept"))
    notice_to(db, "o-win")
    drain_bulk(sub_app, utcnow())
    assert [r["kind"] for r in standin.sent()] == ["custom"]


def test_without_an_accepted_subscription_a_template_message_goes(sub_app, db, standin) -> None:  # type: ignore[no-untyped-def]
    resident(db, "o-rej", hours_ago=72)
    db.add(Subscription(openid="o-rej", template_id="sub-notice", status="reject", updated_at=utcnow()))
    db.commit()
    notice_to(db, "o-rej")
    drain_bulk(sub_app, utcnow())
    [sent] = standin.sent()
    assert sent["kind"] == "template" and row(db, "o-rej").channel == "template"


def test_a_withdrawn_subscription_falls_back_to_a_template_and_is_remembered(sub_app, db, standin) -> None:  # type: ignore[no-untyped-def]
    resident(db, "o-gone", hours_ago=72)
    db.add(Subscription(openid="o-gone", template_id="sub-notice", status="accept", updated_at=utcnow()))
    db.commit()
    notice_to(db, "o-gone")
    standin.fail(43101, "message/subscribe/bizsend")
    drain_bulk(sub_app, utcnow())
    assert [r["kind"] for r in standin.sent()] == ["template"]
    db.expire_all()
    assert db.scalars(select(Subscription.status).where(Subscription.openid == "o-gone")).one() == "reject"


def test_nobody_reachable_is_recorded_with_the_reason(sub_app, db, standin) -> None:  # type: ignore[no-untyped-def]
    sub_app.config["TEMPLATE_IDS"] = {}
    resident(db, "o-none", hours_ago=None)
    notice_to(db, "o-none")
    drain_bulk(sub_app, utcnow())
    failed = row(db, "o-none")
    assert failed.status == "failed" and "not reachable" in failed.error and "subscription" in failed.error
    assert standin.sent() == []
