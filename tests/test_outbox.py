"""The outbox and the gateway against the WeChat stand-in: windows, retries, errors, token refresh."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import utcnow
from bot.messaging import outbox
from bot.services import services
from bot.storage.models import Outbox, Resident
from scheduler.jobs import drain_outbox


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


def test_outside_the_window_by_wechats_clock_falls_back_to_a_template(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    """45015: WeChat says the 48 hours are over (its clock decides, not our last_inbound_at): a template instead."""
    add_resident(db, "o-45015", timedelta(hours=47, minutes=59))
    queue(db, "k-45015", "o-45015", "您的工单已办结")
    standin.fail(45015, "message/custom/send")
    drain_outbox(app, utcnow())
    [sent] = standin.sent()
    assert sent["kind"] == "template" and sent["body"]["data"]["content"]["value"] == "您的工单已办结"
    row = status(db, "k-45015")
    assert row.status == "sent" and row.channel == "template"


def test_45015_without_template_is_recorded(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    app.config["TEMPLATE_IDS"] = {}
    add_resident(db, "o-45015", timedelta(hours=1))
    queue(db, "k-45015", "o-45015")
    standin.fail(45015, "message/custom/send")
    drain_outbox(app, utcnow())
    row = status(db, "k-45015")
    assert row.status == "failed" and "template" in row.error and standin.sent() == []


@pytest.mark.parametrize("errcode", [43004, 43101, 47003])
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


def test_unreachable_token_endpoint_waits(app, db) -> None:  # type: ignore[no-untyped-def]
    from bot.messaging.gateway_health import gateway_health
    services(app).gateway.client.API_BASE_URL = "http://127.0.0.1:9/cgi-bin/"
    add_resident(db, "o-n", timedelta(hours=1))
    queue(db, "k-n", "o-n")
    drain_outbox(app, utcnow())
    row = status(db, "k-n")
    assert row.status == "pending" and row.errcode is None and row.attempts == 0
    health = gateway_health(services(app).redis)
    assert not health.ok and health.errcode is None and health.errmsg == "ConnectionError"


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


def token_requests(standin) -> int:  # type: ignore[no-untyped-def]
    return len([r for r in standin.requests if r["kind"] == "token"])


@pytest.mark.parametrize("errcode", [40164, 40125, -1])
def test_token_endpoint_refusal_waits_instead_of_failing(app, db, standin, errcode: int) -> None:  # type: ignore[no-untyped-def]
    """40164 (IP not on the whitelist): nothing can be sent; the rows wait, the alarm is visible, the token
    endpoint is not asked again before the backoff, and no row fails or uses up an attempt."""
    from bot.messaging.gateway_health import gateway_health
    add_resident(db, "o-tk", timedelta(hours=1))
    for n in range(3):
        queue(db, f"k-tk{n}", "o-tk")
    standin.fail(errcode, "token", times=10)
    counts = drain_outbox(app, utcnow())
    assert counts["waiting"] == 1 and counts["failed"] == 0 and standin.sent() == []
    rows = [status(db, f"k-tk{n}") for n in range(3)]
    assert [(r.status, r.attempts) for r in rows] == [("pending", 0)] * 3
    assert rows[0].errcode == errcode
    health = gateway_health(services(app).redis)
    assert not health.ok and health.errcode == errcode and health.failures == 1
    assert health.retry_at is not None and health.retry_at > utcnow()
    asked = token_requests(standin)
    drain_outbox(app, utcnow() + timedelta(hours=1))  # still backing off: WeChat is not asked again
    assert token_requests(standin) == asked and standin.sent() == []
    assert {status(db, f"k-tk{n}").status for n in range(3)} == {"pending"}


def test_token_endpoint_is_asked_again_after_the_backoff(app, db, standin, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.messaging import gateway_health
    monkeypatch.setattr(gateway_health, "BACKOFF_FIRST", 0.0)  # the backoff has passed
    add_resident(db, "o-tk", timedelta(hours=1))
    queue(db, "k-tk", "o-tk")
    standin.fail(40164, "token")
    drain_outbox(app, utcnow())
    assert status(db, "k-tk").status == "pending"
    drain_outbox(app, utcnow())
    assert status(db, "k-tk").status == "sent" and len(standin.sent()) == 1
    assert gateway_health.gateway_health(services(app).redis).ok


def test_gateway_health_is_ok_without_errors(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    from bot.messaging.gateway_health import gateway_health
    assert gateway_health(services(app).redis).ok
    add_resident(db, "o-ok", timedelta(hours=1))
    queue(db, "k-ok", "o-ok")
    drain_outbox(app, utcnow())
    assert gateway_health(services(app).redis).ok and status(db, "k-ok").status == "sent"


@pytest.fixture
def slow_app(settings):  # type: ignore[no-untyped-def]
    """The app with a short HTTP timeout, so the stand-in's late answer times out."""
    from bot import create_app
    application = create_app({**settings, "WECHAT_HTTP_TIMEOUT": 0.5})
    yield application
    services(application).engine.dispose()


def test_a_send_whose_answer_never_came_is_not_sent_twice(slow_app, db, standin) -> None:  # type: ignore[no-untyped-def]
    """WeChat took the message but its answer timed out: the row is uncertain, never resent on its own."""
    add_resident(db, "o-late", timedelta(hours=1))
    queue(db, "k-late", "o-late", "您的工单已受理")
    drain_outbox(slow_app, utcnow())  # fetches the token first: only the send itself is late
    queue(db, "k-late2", "o-late", "维修人员明天上门")
    standin.delay(3.0, "message/custom/send")
    counts = drain_outbox(slow_app, utcnow())
    assert counts["uncertain"] == 1 and counts["retried"] == 0
    row = status(db, "k-late2")
    assert row.status == "uncertain" and row.error == "ReadTimeout"
    for hours in (1, 24):
        drain_outbox(slow_app, utcnow() + timedelta(hours=hours))
    assert [r["body"]["text"]["content"] for r in standin.sent()] == ["您的工单已受理", "维修人员明天上门"]
    assert status(db, "k-late2").status == "uncertain"


def test_an_unreachable_api_is_retried_not_uncertain(app, db) -> None:  # type: ignore[no-untyped-def]
    """Nothing reached WeChat (connection refused): safe to send again later."""
    services(app).gateway.client.API_BASE_URL = "http://127.0.0.1:9/cgi-bin/"
    services(app).redis.set("mulin:wechat:wx0123456789abcdef_access_token", '"known-token"')
    add_resident(db, "o-n", timedelta(hours=1))
    queue(db, "k-n", "o-n")
    drain_outbox(app, utcnow())
    row = status(db, "k-n")
    assert row.status == "pending" and row.errcode is None and row.error == "ConnectionError"


def test_rows_another_scheduler_still_holds_are_not_taken(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    """A row claimed a moment ago may be in the hands of a scheduler that just lost the lock: only an
    expired claim is taken over (a crash), never a current one."""
    add_resident(db, "o-h", timedelta(hours=1))
    now = utcnow()
    held = queue(db, "k-held", "o-h")
    dead = queue(db, "k-dead", "o-h")
    held.status, held.claimed_until = "sending", now + timedelta(seconds=90)
    dead.status, dead.claimed_until = "sending", now - timedelta(seconds=1)
    db.commit()
    counts = drain_outbox(app, now)
    assert counts["recovered"] == 1 and status(db, "k-dead").status == "sent"
    assert status(db, "k-held").status == "sending" and len(standin.sent()) == 1
    counts = drain_outbox(app, now + outbox.SENDING_LEASE)
    assert counts["recovered"] == 1 and status(db, "k-held").status == "sent"
