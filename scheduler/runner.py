"""Run the jobs: forever under a Redis lock (one working instance), or once as of a given time; or, in any
number of processes at once, only the answering of queued messages (--answer-only)."""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import redis
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from redis.exceptions import LockError
from redis.lock import Lock

from bot.clock import utcnow
from bot.services import services
from scheduler import replay_jobs, skipped_runs
from scheduler.jobs import JOBS, Job

log = logging.getLogger("scheduler")

LOCK_NAME = "mulin:lock:scheduler"
LOCK_TTL = 30  # seconds; renewed every RENEW seconds while this instance works
RENEW = 10
STANDBY_POLL = 1  # seconds a standing-by scheduler waits for the lock before checking for SIGTERM
ANSWER_POLL = 0.2  # seconds an answering worker waits when the queue is empty
ANSWER_RETRY = 5  # seconds it waits after a failed pass (the database unreachable)


def scheduler_lock(store: redis.Redis) -> Lock:
    """The lock that makes exactly one scheduler work at a time."""
    return cast(Lock, store.lock(LOCK_NAME, timeout=LOCK_TTL, thread_local=False))


def fence(lock: Lock, halt: threading.Event | None = None) -> Callable[[], bool]:
    """Whether this process still holds the lock, asked before each send (one Redis GET).

    The lock can go while a job runs (Redis restarted, a renewal came too late) and another
    scheduler may then take it at once: from that moment this one sends nothing more.
    """
    def holds() -> bool:
        try:
            owned = bool(lock.owned())
        except redis.RedisError:  # cannot tell: another scheduler may be working, so do not send
            owned = False
        if not owned and halt is not None and not halt.is_set():
            log.error("scheduler lock lost; stopping work")
            halt.set()
        return owned
    return holds


def _fenced(app: Flask, lock: Lock, halt: threading.Event | None = None) -> None:
    services(app).holds_lock = fence(lock, halt)


def _unfenced(app: Flask) -> None:
    services(app).holds_lock = lambda: True


def run_job(app: Flask, job: Job, now: datetime | None = None) -> dict[str, Any]:
    """Run one job inside an app context, as of `now` (default: the moment it starts); log its counts."""
    now = now or utcnow()
    with app.app_context():
        try:
            counts = job.run(app, now)
        except Exception:  # one failing job must not stop the others
            log.exception("job %s failed", job.id)
            return {"error": True}
    if any(counts.values()):  # jobs poll every second or so: log only runs that did something
        log.info("job %s: %s", job.id, " ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def run_once(app: Flask, now: datetime | None = None, wait: float = 60) -> dict[str, dict[str, Any]]:
    """Run every job once as of `now` (naive UTC), holding the lock; for operators and tests."""
    lock = scheduler_lock(services(app).redis)
    if not lock.acquire(blocking=True, blocking_timeout=wait):
        raise RuntimeError("another scheduler holds the lock; try again when it is stopped")
    done = threading.Event()
    renewer = threading.Thread(target=_keep, args=(lock, done), daemon=True)
    renewer.start()
    _fenced(app, lock)
    try:
        return {job.id: run_job(app, job, now or utcnow()) for job in JOBS}
    finally:
        _unfenced(app)
        done.set()
        renewer.join()
        _release(lock)


def _keep(lock: Lock, done: threading.Event) -> None:
    """Extend the lock while a --once run works (a broadcast can outlast LOCK_TTL)."""
    while not done.wait(RENEW):
        try:
            lock.extend(LOCK_TTL, replace_ttl=True)
        except (LockError, redis.RedisError):  # lost to expiry: the next extend cannot help either
            log.error("scheduler lock lost during a --once run")
            return


def _release(lock: Lock) -> None:
    try:
        lock.release()
    except Exception:  # already expired or lost: nothing to release
        log.warning("scheduler lock was already gone at release")


def _stop_both(stop: threading.Event, halt: threading.Event) -> None:
    stop.set()
    halt.set()


def run_forever(app: Flask, stop: threading.Event | None = None) -> None:
    """Wait for the lock, then run the jobs on their intervals until SIGTERM/SIGINT."""
    stop = stop or threading.Event()
    # Long jobs (a 10,000-message broadcast) check this and end early: on SIGTERM, or when the lock is lost.
    halt = services(app).stop
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: _stop_both(stop, halt))
    lock = scheduler_lock(services(app).redis)
    standing_by = False
    while not stop.is_set():
        try:
            acquired = lock.acquire(blocking=True, blocking_timeout=STANDBY_POLL)
        except redis.RedisError:  # Redis restarting: the database keeps everything; try again shortly
            log.warning("Redis unavailable; the scheduler waits for it")
            stop.wait(STANDBY_POLL * 5)
            continue
        if not acquired:
            if not standing_by:
                log.info("another scheduler is working; standing by")
            standing_by = True
            continue
        log.info("scheduler lock acquired; running %d jobs", len(JOBS))
        if not stop.is_set():
            halt.clear()
        _work(app, lock, stop, halt)
    log.info("scheduler stopped")


def build_scheduler(app: Flask, jobs: tuple[Job, ...] = JOBS) -> BackgroundScheduler:
    """APScheduler running each job on its interval, one run at a time (a due run while one is still
    going is skipped, logged once a minute per job: scheduler.skipped_runs)."""
    sched = BackgroundScheduler(
        timezone="Asia/Shanghai", logger=skipped_runs.install(),
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    for job in jobs:
        sched.add_job(run_job, "interval", seconds=job.seconds, id=job.id, replace_existing=True,
                      args=(app, job), next_run_time=datetime.now().astimezone(), name=job.id)
    return sched


def _work(app: Flask, lock: Lock, stop: threading.Event, halt: threading.Event) -> None:
    sched = build_scheduler(app)
    _fenced(app, lock, halt)
    sched.start()
    try:
        while not halt.wait(RENEW):  # set on SIGTERM, or by the fence when the lock is found gone
            try:
                lock.extend(LOCK_TTL, replace_ttl=True)
            except (LockError, redis.RedisError):
                log.error("scheduler lock lost; pausing work")
                break
    finally:
        halt.set()  # running jobs end early: another scheduler may take over now
        sched.shutdown(wait=True)
        _unfenced(app)
        _release(lock)


def answer_forever(app: Flask, stop: threading.Event | None = None) -> int:
    """Answer queued messages until SIGTERM/SIGINT, without the scheduler's lock: any number of these run at
    once beside the scheduler (which answers too). How many messages this process answered."""
    stop = stop or threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    services(app).classifier.classify("楼上漏水")  # jieba's dictionary loads on first use, not on the first answer
    log.info("answering worker ready")
    answered = 0
    while not stop.is_set():
        try:
            count = replay_jobs.replay(app, utcnow())
        except Exception:  # the database restarting: the messages stay queued, try again in a while
            log.exception("answering failed; trying again in %d s", ANSWER_RETRY)
            stop.wait(ANSWER_RETRY)
            continue
        answered += count
        if count == 0:
            stop.wait(ANSWER_POLL)
    log.info("answering worker stopped; %d messages answered", answered)
    return answered
