"""`flask --app bot outbox [retry]` through the real CLI: counts, uncertain sends, re-queueing after a fix."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import fmt_local, utcnow
from bot.messaging import outbox
from bot.storage.models import Outbox, Resident
from scheduler.jobs import drain_outbox


def _resident(db, openid: str) -> None:  # type: ignore[no-untyped-def]
    db.add(Resident(openid=openid, created_at=utcnow(), subscribed=True, last_inbound_at=utcnow()))
    db.commit()


def _queue(db, key: str, openid: str, created_at=None) -> None:  # type: ignore[no-untyped-def]
    outbox.enqueue(db, key=key, openid=openid, purpose="reply", text="您好", now=created_at or utcnow())
    db.commit()


def _statuses(db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return {row.key: row.status for row in db.scalars(select(Outbox))}


def test_retry_requeues_failed_sends_by_errcode(app, db, standin, runner) -> None:  # type: ignore[no-untyped-def]
    for openid in ("o-a", "o-b", "o-c"):
        _resident(db, openid)
        _queue(db, f"k-{openid}", openid)
    standin.fail(47003, "message/custom/send", openid="o-a")
    standin.fail(47003, "message/custom/send", openid="o-b")
    standin.fail(43101, "message/custom/send", openid="o-c")
    drain_outbox(app, utcnow())
    assert set(_statuses(db).values()) == {"failed"}
    shown = runner.invoke(args=["outbox"])
    assert shown.exit_code == 0, shown.output
    assert "失败 3" in shown.output and "errcode 47003：2 条" in shown.output and "errcode 43101：1 条" in shown.output

    result = runner.invoke(args=["outbox", "retry", "--errcode", "47003"])
    assert result.exit_code == 0, result.output
    assert "已重新排队 2 条" in result.output
    assert _statuses(db) == {"k-o-a": "pending", "k-o-b": "pending", "k-o-c": "failed"}
    db.expire_all()
    assert {r.attempts for r in db.scalars(select(Outbox).where(Outbox.status == "pending"))} == {0}
    drain_outbox(app, utcnow())
    assert _statuses(db) == {"k-o-a": "sent", "k-o-b": "sent", "k-o-c": "failed"}
    assert sorted(r["openid"] for r in standin.sent()) == ["o-a", "o-b"]


def test_retry_since_takes_only_newer_sends(app, db, standin, runner) -> None:  # type: ignore[no-untyped-def]
    app.config["TEMPLATE_IDS"] = {}
    now = utcnow()
    _queue(db, "k-old", "o-old", created_at=now - timedelta(days=3))
    _queue(db, "k-new", "o-new", created_at=now - timedelta(hours=1))
    drain_outbox(app, now)  # outside any window and no template: both fail
    assert set(_statuses(db).values()) == {"failed"}
    result = runner.invoke(args=["outbox", "retry", "--since", fmt_local(now - timedelta(days=1))])
    assert result.exit_code == 0 and "已重新排队 1 条" in result.output
    assert _statuses(db) == {"k-old": "failed", "k-new": "pending"}


def test_retry_refuses_a_bad_since(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["outbox", "retry", "--since", "yesterday"])
    assert result.exit_code == 2 and "YYYY-MM-DD HH:MM" in result.output


def test_after_the_whitelist_is_fixed_retry_sends_at_once(app, db, standin, runner) -> None:  # type: ignore[no-untyped-def]
    """40164 until the IP is whitelisted: the console's alarm and `outbox` say so; `retry` asks again at once."""
    _resident(db, "o-w")
    _queue(db, "k-w", "o-w")
    standin.fail(40164, "token")
    drain_outbox(app, utcnow())
    shown = runner.invoke(args=["outbox"])
    assert "待发送 1" in shown.output and "errcode 40164" in shown.output and "IP 白名单" in shown.output
    drain_outbox(app, utcnow())
    assert _statuses(db) == {"k-w": "pending"}  # backing off: not asked again yet
    assert runner.invoke(args=["outbox", "retry"]).exit_code == 0  # the operator fixed the whitelist
    drain_outbox(app, utcnow())
    assert _statuses(db) == {"k-w": "sent"}
    assert "微信接口告警" not in runner.invoke(args=["outbox"]).output


def test_uncertain_sends_are_counted_and_retried_only_when_asked(app, db, standin, runner) -> None:  # type: ignore[no-untyped-def]
    _resident(db, "o-u")
    _queue(db, "k-u", "o-u")
    _queue(db, "k-f", "o-u")
    db.execute(Outbox.__table__.update().where(Outbox.key == "k-u").values(status="uncertain", error="ReadTimeout"))
    db.execute(Outbox.__table__.update().where(Outbox.key == "k-f").values(status="failed", errcode=47003))
    db.commit()
    shown = runner.invoke(args=["outbox"])
    assert "不确定是否送达 1" in shown.output and "--uncertain" in shown.output
    assert "已重新排队 1 条" in runner.invoke(args=["outbox", "retry"]).output
    assert _statuses(db) == {"k-u": "uncertain", "k-f": "pending"}
    assert "已重新排队 1 条" in runner.invoke(args=["outbox", "retry", "--uncertain"]).output
    assert _statuses(db) == {"k-u": "pending", "k-f": "pending"}


def test_outbox_commands_work_while_redis_is_down(settings) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    from bot.services import services
    down = create_app({**settings, "REDIS_URL": "redis://127.0.0.1:1/0"})  # no other app's context around
    with services(down).sessions() as db:
        _queue(db, "k-d", "o-d")
        db.execute(Outbox.__table__.update().values(status="failed", errcode=47003))
        db.commit()
        shown = down.test_cli_runner().invoke(args=["outbox"])
        assert shown.exit_code == 0 and "无法连接 Redis" in shown.output and "失败 1" in shown.output
        retried = down.test_cli_runner().invoke(args=["outbox", "retry"])
        assert retried.exit_code == 0 and "已重新排队 1 条" in retried.output and "Redis 无法连接" in retried.output
        assert _statuses(db) == {"k-d": "pending"}
    services(down).engine.dispose()
