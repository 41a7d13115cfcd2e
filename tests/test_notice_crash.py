"""Crash and resume: a scheduler broadcasting a notice is killed with SIGKILL halfway, then restarted.

Every resident must get each offset's message. Delivery is at-least-once: a kill landing
between WeChat accepting a message and our commit of `sent` repeats that one message, and
WeChat's send APIs have no idempotency key to prevent it. So the test asserts zero missing
and at most one duplicate per kill (the single in-flight message), and prints the figures.
The dead run's claimed rows are taken over once their claim has expired (a live scheduler that
merely lost the lock may still hold them), so the restart runs as of a moment past the claim.
"""
from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import timedelta

import redis
from sqlalchemy import func, select

from bot.clock import fmt_local
from bot.domain import notices
from bot.messaging.outbox import SENDING_LEASE
from bot.storage.models import Outbox
from scheduler.runner import LOCK_NAME
from tests.helpers_outreach import NOW, spawn_scheduler, street

CLEANUP = NOW + timedelta(days=10)
RESIDENTS = 200  # 4 buildings x 50
RATE = 100  # messages a second: a broadcast takes about two seconds, so the kill lands mid-way


def broadcast_with_a_kill(settings, standin, at) -> tuple[Counter, int]:  # type: ignore[no-untyped-def]
    """Run `--once --now at`, SIGKILL it halfway, restart it; (sends per openid in this run, kills)."""
    start = len(standin.sent())
    proc = spawn_scheduler(settings, "--once", "--now", fmt_local(at), rate=RATE)
    deadline = time.monotonic() + 60
    while len(standin.sent()) - start < RESIDENTS // 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    assert proc.poll() is None, "the scheduler finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)  # reaps it and closes its pipes
    halfway = len(standin.sent()) - start
    assert 0 < halfway < RESIDENTS
    # The dead process's lock would expire after its TTL (30 s); an operator may delete it at once.
    redis.Redis.from_url(str(settings["REDIS_URL"])).delete(LOCK_NAME)
    later = fmt_local(at + SENDING_LEASE + timedelta(minutes=1))
    again = spawn_scheduler(settings, "--once", "--now", later, rate=RATE)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    return Counter(r["openid"] for r in standin.sent()[start:]), 1


def test_killed_broadcast_resumes_and_reaches_everyone(db, settings, standin) -> None:  # type: ignore[no-untyped-def]
    street(db, residents_per_building=50, buildings=("1", "2", "3", "4"))
    notice = notices.create_notice(db, compound="和平里", community=None, buildings=None, cleanup_at=CLEANUP,
                                   text="请清理楼道", actor="test", now=NOW)
    db.commit()
    everyone = {f"o-和平里-{b}-{i}" for b in ("1", "2", "3", "4") for i in range(50)}
    for offset, when in ((10080, CLEANUP - timedelta(days=7)), (1440, CLEANUP - timedelta(days=1))):
        got, kills = broadcast_with_a_kill(settings, standin, when)
        missing = everyone - set(got)
        duplicates = sum(n - 1 for n in got.values())
        print(f"offset {offset} min: targeted {len(everyone)}, received {sum(got.values())} messages by "
              f"{len(got)} residents, missing {len(missing)}, duplicates {duplicates} after {kills} kill(s)")
        assert not missing
        assert set(got) == everyone
        assert duplicates <= kills
    db.expire_all()
    statuses = dict(db.execute(select(Outbox.status, func.count()).where(Outbox.notice_id == notice.id)
                               .group_by(Outbox.status)).all())
    assert statuses == {"sent": 2 * RESIDENTS}
