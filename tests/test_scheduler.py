"""The scheduler process: --once --now moves time, several at once send each message once, SIGTERM stops cleanly."""
from __future__ import annotations

import json
import signal
import time
from datetime import timedelta

from sqlalchemy import func, select

from bot.domain import notices
from bot.clock import fmt_local, utcnow
from bot.storage.models import Outbox
from tests.helpers_outreach import NOW, received, spawn_scheduler, street

CLEANUP = NOW + timedelta(days=10)
DAY = timedelta(days=1)


def notice(db, cleanup_at=CLEANUP, now=NOW) -> int:  # type: ignore[no-untyped-def]
    row = notices.create_notice(db, compound="和平里", community=None, buildings=None, cleanup_at=cleanup_at,
                                text="请清理楼道", actor="test", now=now)
    db.commit()
    return row.id


def wait_until(predicate, timeout: float = 60) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def in_flight(db) -> int:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Outbox).where(Outbox.status.in_(("pending", "sending"))))


def test_once_now_runs_what_is_due_at_that_moment(db, settings, standin) -> None:  # type: ignore[no-untyped-def]
    street(db, residents_per_building=2)
    notice(db)
    early = spawn_scheduler(settings, "--once", "--now", fmt_local(CLEANUP - 8 * DAY))
    out, err = early.communicate(timeout=60)
    assert early.returncode == 0, err
    assert json.loads(out)["notice_fanout"]["deliveries"] == 0 and not standin.sent()
    due = spawn_scheduler(settings, "--once", "--now", fmt_local(CLEANUP - 7 * DAY))
    out, err = due.communicate(timeout=60)
    assert due.returncode == 0, err
    counts = json.loads(out)
    assert counts["notice_fanout"]["deliveries"] == 6 and counts["outbox_bulk"]["sent"] == 6
    assert "job notice_fanout: notices=1 deliveries=6" in err  # each job run is logged with its counts
    assert set(received(standin).values()) == {1} and len(received(standin)) == 6


def test_once_refuses_a_bad_now(settings) -> None:  # type: ignore[no-untyped-def]
    proc = spawn_scheduler(settings, "--once", "--now", "tomorrow")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "YYYY-MM-DD HH:MM" in err


def test_several_once_schedulers_at_once_send_each_message_once(db, settings, standin) -> None:  # type: ignore[no-untyped-def]
    street(db, residents_per_building=10)
    notice(db)
    when = fmt_local(CLEANUP - 7 * DAY)
    procs = [spawn_scheduler(settings, "--once", "--now", when, rate=100) for _ in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    got = received(standin)
    assert len(got) == 30 and set(got.values()) == {1}


def test_running_schedulers_share_the_work_and_stop_on_sigterm(db, settings, standin) -> None:  # type: ignore[no-untyped-def]
    street(db, residents_per_building=10)
    now = utcnow()
    notice(db, cleanup_at=now + 3 * DAY, now=now)  # past its 7-day offset: the first message goes at once
    procs = [spawn_scheduler(settings, rate=50) for _ in range(3)]
    try:
        assert wait_until(lambda: len(standin.sent()) >= 30 and in_flight(db) == 0)
        time.sleep(1)  # give any (wrong) second sender time to show itself
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        outputs = [proc.communicate(timeout=60) for proc in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0 and "scheduler stopped" in err, err
    assert sum("scheduler lock acquired" in err for _, err in outputs) >= 1
    got = received(standin)
    assert len(got) == 30 and set(got.values()) == {1}


def test_sigterm_during_a_broadcast_leaves_nothing_in_flight(db, settings, standin) -> None:  # type: ignore[no-untyped-def]
    street(db, residents_per_building=20)
    now = utcnow()
    notice(db, cleanup_at=now + 3 * DAY, now=now)
    proc = spawn_scheduler(settings, rate=10)  # 60 messages: six seconds at 10/s
    assert wait_until(lambda: len(standin.sent()) >= 10)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "scheduler stopped" in err, err
    assert len(standin.sent()) < 60  # the broadcast stopped early instead of holding up the shutdown
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "sending")) == 0
    restarted = spawn_scheduler(settings, "--once")
    _, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err
    got = received(standin)
    assert len(got) == 60 and set(got.values()) == {1}


def test_scheduler_waits_out_a_redis_outage_and_stops_on_sigterm(settings) -> None:  # type: ignore[no-untyped-def]
    proc = spawn_scheduler({**settings, "REDIS_URL": "redis://127.0.0.1:1/0"})
    seen = []
    for line in proc.stderr:  # wait for the condition, not a fixed time: its SIGTERM handler is set before this line
        seen.append(line)
        if "Redis unavailable" in line:
            break
    assert proc.poll() is None  # still running, not crashed
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    err = "".join(seen) + err
    assert proc.returncode == 0
    assert "Redis unavailable" in err and "scheduler stopped" in err
