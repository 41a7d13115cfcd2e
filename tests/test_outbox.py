"""The outbox and the gateway against the WeChat stand-in: windows, retries, errors, token refresh."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.messaging import outbox
from bot.clock import utcnow
from bot.storage.models import Outbox, Resident
from scheduler.jobs import drain_outbox
from bot.services import services


def add_resident(db, openid: str, last_inbound_ago: timedelta | None) -> Resident:  # type: ignore[no-untyped-def]
    now = utcnow()
    r = Resident(openid=openid, created_at=now, subscribed=True,
                 last_inbound_at=now - last_inbound_ago if last_inbound_ago is not None else None)
    db.add(r)
    db.commit()
    return r


def queue(db, key: str, openid: str, text: str = "您好", purpose: str = "reply") -> Outbox:  # type: ignore[no-untyped-def]
    outbox.enqueue(db, key=key, openid=openid, purpose=purpose, text=text, now=utcnow())
    db.commit()
    return db.scalars(select(Outbox).where(Outbox.key == key)).one()


def status(db, key: str) -> Outbox:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalars(select(Outbox).where(Outbox.key == key)).one()


def test_enqueue_is_idempotent(db) -> None:  # type: ignore[no-untyped-def]
    assert outbox.enqueue(db, key="k1", openid="o1", purpose="reply", text="您好", now=utcnow())
    assert not outbox.enqueue(db, key="k1", openid="o1", purpose="reply", text="另一条", now=utcnow())
    db.commit()
    rows = db.scalars(select(Outbox)).all()
    assert len(rows) == 1 and rows[0].payload["text"] == "您好"


def test_inside_window_sends_customer_service_text(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    add_resident(db, "o-in", timedelta(hours=1))
    queue(db, "k-in", "o-in", "您的工单已受理")
    counts = drain_outbox(app, utcnow())
    assert counts["sent"] == 1
    sent = standin.sent("custom")
    assert sent[0]["openid"] == "o-in" and sent[0]["body"]["text"]["content"] == "您的工单已受理"
    assert status(db, "k-in").channel == "custom"


def test_outside_window_sends_template(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    add_resident(db, "o-out", timedelta(hours=49))
    queue(db, "k-out", "o-out", "清理通知")
    drain_outbox(app, utcnow())
    assert not standin.sent("custom")
    sent = standin.sent("template")
    assert sent[0]["body"]["template_id"] == "tpl-default"
    assert status(db, "k-out").channel == "template"


def test_outside_window_without_template_is_recorded_not_sent(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    app.config["TEMPLATE_IDS"] = {}
    add_resident(db, "o-none", None)
    queue(db, "k-none", "o-none")
    drain_outbox(app, utcnow())
    row = status(db, "k-none")
    assert row.status == "failed" and "template" in row.error and standin.sent() == []


def test_used_up_customer_service_quota_falls_back_to_a_template(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    add_resident(db, "o-quota", timedelta(hours=1))
    queue(db, "k-quota", "o-quota", "您的工单已受理")
    standin.fail(45047, "message/custom/send")
    drain_outbox(app, utcnow())
    [sent] = standin.sent()
    assert sent["kind"] == "template" and sent["body"]["template_id"] == "tpl-default"
    row = status(db, "k-quota")
    assert row.status == "sent" and row.channel == "template"


def test_used_up_quota_without_template_is_recorded(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    app.config["TEMPLATE_IDS"] = {}
    add_resident(db, "o-quota", timedelta(hours=1))
    queue(db, "k-quota", "o-quota")
    standin.fail(45047, "message/custom/send")
    drain_outbox(app, utcnow())
    row = status(db, "k-quota")
    assert row.status == "failed" and "template" in row.error and standin.sent() == []


@pytest.mark.parametrize("errcode", [-1, 45009, 45011])
def test_transient_errors_retry_with_backoff(app, db, standin, errcode: int) -> None:  # type: ignore[no-untyped-def]
    add_resident(db, "o-t", timedelta(hours=1))
    queue(db, "k-t", "o-t")
    standin.fail(errcode, "message/custom/send")
    now = utcnow()
    drain_outbox(app, now)
    row = status(db, "k-t")
    assert row.status == "pending" and row.errcode == errcode and row.next_attempt_at > now
    drain_outbox(app, now)  # not due yet: nothing happens
    assert standin.sent() == []
    drain_outbox(app, now + timedelta(minutes=5))
    assert status(db, "k-t").status == "sent" and len(standin.sent()) == 1


@pytest.mark.parametrize("errcode", [43004, 43101, 45015, 47003])
def test_permanent_errors_are_recorded_once(app, db, standin, errcode: int) -> None:  # type: ignore[no-untyped-def]
    add_resident(db, "o-p", timedelta(hours=1))
    queue(db, "k-p", "o-p")
    standin.fail(errcode, "message/custom/send", times=5)
    drain_outbox(app, utcnow())
    drain_outbox(app, utcnow() + timedelta(hours=3))
    row = status(db, "k-p")
    assert row.status == "failed" and row.errcode == errcode and row.attempts == 1


def test_unsubscribed_resident_is_marked(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    add_resident(db, "o-u", timedelta(hours=1))
    queue(db, "k-u", "o-u")
    standin.fail(43004, "message/custom/send")
    drain_outbox(app, utcnow())
    db.expire_all()
    assert db.scalars(select(Resident).where(Resident.openid == "o-u")).one().subscribed is False


def test_network_error_is_transient(app, db) -> None:  # type: ignore[no-untyped-def]
    services(app).gateway.client.API_BASE_URL = "http://127.0.0.1:9/cgi-bin/"
    add_resident(db, "o-n", timedelta(hours=1))
    queue(db, "k-n", "o-n")
    drain_outbox(app, utcnow())
    row = status(db, "k-n")
    assert row.status == "pending" and row.errcode is None and row.attempts == 1


def test_expired_token_is_refreshed_once_and_shared(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    add_resident(db, "o-k", timedelta(hours=1))
    queue(db, "k-k1", "o-k")
    drain_outbox(app, utcnow())
    standin.expire_tokens()
    queue(db, "k-k2", "o-k")
    drain_outbox(app, utcnow())
    assert status(db, "k-k2").status == "sent"
    tokens = [r for r in standin.requests if r["kind"] == "token"]
    assert len(tokens) == 2  # the first fetch, then one refresh after 40001
    stored = services(app).redis.get("mulin:wechat:wx0123456789abcdef_access_token")
    assert stored is not None


def test_token_endpoint_is_under_the_base_url(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    add_resident(db, "o-b", timedelta(hours=1))
    queue(db, "k-b", "o-b")
    drain_outbox(app, utcnow())
    assert [r["path"] for r in standin.requests] == ["token", "message/custom/send"]


def test_two_workers_share_one_token(app, settings, db, standin) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    other = create_app(settings)
    add_resident(db, "o-s", timedelta(hours=1))
    queue(db, "k-s1", "o-s")
    drain_outbox(app, utcnow())
    queue(db, "k-s2", "o-s")
    drain_outbox(other, utcnow())
    assert len([r for r in standin.requests if r["kind"] == "token"]) == 1
    assert len(standin.sent()) == 2


def test_rows_left_sending_by_a_crash_are_sent_again(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    add_resident(db, "o-c", timedelta(hours=1))
    row = queue(db, "k-c", "o-c")
    row.status = "sending"
    db.commit()
    counts = drain_outbox(app, utcnow())
    assert counts["recovered"] == 1 and status(db, "k-c").status == "sent"


def test_pacing_respects_the_rate(app, db) -> None:  # type: ignore[no-untyped-def]
    waits: list[float] = []
    for i in range(3):
        add_resident(db, f"o-r{i}", timedelta(hours=1))
        queue(db, f"k-r{i}", f"o-r{i}")
    outbox.drain(services(app).sessions, services(app).gateway, utcnow(),
                 templates={}, rate=2.0, sleep=waits.append)
    assert len(waits) == 3 and all(0.3 < w <= 0.5 for w in waits)


def test_gateway_refuses_urls_outside_the_base(app) -> None:  # type: ignore[no-untyped-def]
    from bot.messaging.gateway import SendError
    with pytest.raises(SendError):
        services(app).gateway.client.get("https://api.weixin.qq.com/cgi-bin/media/get")
