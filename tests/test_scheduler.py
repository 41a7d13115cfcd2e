"""The scheduler process: --once --now moves time, several at once send each message once, SIGTERM stops cleanly."""
from __future__ import annotations

import json
import signal
import time
from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import fmt_local, utcnow
from bot.domain import notices
from bot.storage.models import Outbox
from tests.helpers_outreach import NOW, received, spawn_scheduler, street, wait_for_line

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
    seen = wait_for_line(proc, "Redis unavailable")  # it has started, met the outage and waits for Redis
    assert proc.poll() is None  # still running, not crashed
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    err = "".join(seen) + err
    assert proc.returncode == 0
    assert "Redis unavailable" in seen and "scheduler stopped" in err


def test_a_scheduler_that_lost_the_lock_sends_nothing_more(app, settings, db, standin) -> None:  # type: ignore[no-untyped-def]
    """Redis restarts mid-broadcast: the lock is gone and a standby takes it at once. The first scheduler
    sends nothing after that moment, the standby does not take the rows the first one still holds, and
    every resident gets the notice exactly once."""
    from bot import create_app
    from bot.messaging import outbox
    from bot.services import services
    from scheduler.runner import LOCK_NAME, run_once
    first = create_app({**settings, "WECHAT_HTTP_TIMEOUT": 60})  # the standby's run happens inside one send
    standby = create_app(settings)
    now = utcnow()
    for n in range(20):
        outbox.enqueue(db, key=f"notice-{n}", openid=f"o-n{n}", purpose="notice", text="请清理楼道", now=now)
    db.commit()
    standby_counts: list[dict] = []

    def redis_restarts_and_the_standby_takes_over() -> None:
        services(first).redis.delete(LOCK_NAME)
        standby_counts.append(run_once(standby, now))

    standin.on_sent(5, redis_restarts_and_the_standby_takes_over)
    run_once(first, now)
    assert len(standin.sent()) == 5  # nothing more from the first scheduler once the lock was gone
    assert standby_counts[0]["outbox_bulk"]["sent"] == 0  # the first one's claimed rows were not taken
    again = run_once(standby, now)  # the first one gave back what it had claimed but not sent
    assert again["outbox_bulk"]["sent"] == 15
    got = received(standin)
    assert len(got) == 20 and set(got.values()) == {1}
    for application in (first, standby):
        services(application).engine.dispose()


def test_a_long_job_is_not_warned_about_every_second(app, caplog) -> None:  # type: ignore[no-untyped-def]
    """A job still running when its next runs are due: APScheduler skips them (one run at a time); the
    warning about it appears once (then once a minute), not for every skipped run."""
    import logging
    import threading

    from scheduler.jobs import Job
    from scheduler.runner import build_scheduler
    from scheduler.skipped_runs import SKIPPED_RUNS
    release = threading.Event()

    def long_job(_app, _now):  # type: ignore[no-untyped-def]
        release.wait(30)
        return {}

    sched = build_scheduler(app, (Job("long_broadcast", 0.05, long_job),))
    caplog.set_level("WARNING", logger="apscheduler")
    sched.start()
    try:
        assert wait_until(lambda: SKIPPED_RUNS.skipped.get("long_broadcast", 0) >= 5)
    finally:
        release.set()
        sched.shutdown(wait=True)
    lines = [r for r in caplog.records if "maximum number of running instances" in r.getMessage()]
    assert len(lines) == 1 and "long_broadcast" in lines[0].getMessage()
    other = logging.LogRecord("apscheduler.scheduler", logging.WARNING, "", 0, "Run time of job %s was missed",
                              ("x",), None)
    assert SKIPPED_RUNS.filter(other) and SKIPPED_RUNS.filter(other)  # other warnings pass untouched
