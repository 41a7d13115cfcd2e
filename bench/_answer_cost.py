"""The answer cost per report, in process: CPU ms, SQL statements and commits the scheduler's job spends on each.

N reports from N different known residents are stored as queued by the burst writer (as a flood leaves them);
the scheduler's inbound_replay job then answers them, once they are a quiet queue (a chunk of 25 at a time in one
transaction). Statements are counted with a `before_cursor_execute` listener on the app's engine (an executemany
counts as one), CPU with time.process_time (this process only; the database server's and
Redis's own CPU is not in it, which on PostgreSQL leaves part of the cost out).
"""
from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from bench._wrk import REPORT
from bot import create_app
from bot.clock import utcnow
from bot.messaging.inbound import Inbound
from bot.services import services
from scheduler.replay_jobs import ARRIVING, replay

WARM_UP = 20  # the first answers load jieba's dictionary and fill the caches: not counted


@dataclass(frozen=True)
class Cost:
    """Per report, and the job's rate."""

    reports: int
    cpu_ms: float
    statements: float
    commits: float
    per_second: float

    def line(self) -> str:
        return (f"{self.cpu_ms:.2f} ms CPU, {self.statements:.1f} SQL statements, {self.commits:.1f} commits "
                f"per report ({self.reports} reports answered by the scheduler's job in process, "
                f"{self.per_second:.0f}/s)")


def _report(openid: str, msg_id: int) -> Inbound:
    now = utcnow()
    raw: dict[str, Any] = {"ToUserName": "gh_bench", "FromUserName": openid, "CreateTime": int(time.time()),
                           "MsgType": "text", "Content": REPORT, "MsgId": msg_id}
    return Inbound(dedup_key=f"{openid}:{msg_id}", openid=openid, msg_type="text", sent_at=now, raw=raw,
                   content=REPORT)


def quiet() -> None:
    """Wait until the stored reports are a quiet queue, as after a flood: the job then answers a chunk at a time in
    one transaction (while messages still arrive it answers them one by one: scheduler.replay_jobs.ARRIVING)."""
    time.sleep(ARRIVING.total_seconds())


def _answer_all(app: Any, expected: int) -> int:
    """Run the job until it has nothing left; how many it answered."""
    done = 0
    while done < expected:
        count = replay(app, utcnow(), limit=200)
        if count == 0:
            break
        done += count
    return done


def answer_queue(settings: dict[str, str]) -> int:
    """Answer whatever is queued in that database with the scheduler's job; how many."""
    app = create_app(settings | {"LOG_LEVEL": "WARNING"})
    answered = _answer_all(app, 10**9)
    services(app).engine.dispose()
    return answered


def measure(settings: dict[str, str], reports: int) -> Cost:
    """Queue WARM_UP + `reports` reports from residents o0 … and answer them; the cost of the last `reports`."""
    app = create_app(settings | {"LOG_LEVEL": "WARNING"})
    svc = services(app)
    queue = [_report(f"o{i}", 9_000_000_000 + i) for i in range(WARM_UP + reports)]
    for msg in queue[:WARM_UP]:
        svc.queue.store(msg, utcnow())
    _answer_all(app, WARM_UP)
    for msg in queue[WARM_UP:]:
        svc.queue.store(msg, utcnow())
    counts = {"statements": 0, "commits": 0}

    def statement(*_: Any) -> None:
        counts["statements"] += 1

    def commit(*_: Any) -> None:
        counts["commits"] += 1

    quiet()
    event.listen(svc.engine, "before_cursor_execute", statement)
    event.listen(svc.engine, "commit", commit)
    cpu, wall = time.process_time(), time.monotonic()
    answered = _answer_all(app, reports)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    event.remove(svc.engine, "before_cursor_execute", statement)
    event.remove(svc.engine, "commit", commit)
    svc.engine.dispose()
    n = max(answered, 1)
    return Cost(answered, cpu * 1000 / n, counts["statements"] / n, counts["commits"] / n, answered / wall)


def _answering_worker(settings: dict[str, str], ready: Any, results: Any) -> None:
    """One answering process: the app built and the classifier warm, then the job until nothing is left."""
    app = create_app(settings | {"LOG_LEVEL": "WARNING"})
    services(app).classifier.classify(REPORT)  # jieba's dictionary loads on first use
    ready.wait()
    started = time.monotonic()
    answered = _answer_all(app, 10**9)
    results.put((answered, time.monotonic() - started))
    services(app).engine.dispose()


def answer_with_workers(settings: dict[str, str], reports: int, workers: int) -> tuple[int, float]:
    """Queue `reports` reports, three from each resident interleaved, and answer them with `workers` processes
    running the scheduler's job at once; (answered by them, answered per second)."""
    app = create_app(settings | {"LOG_LEVEL": "WARNING"})
    residents = max(reports // 3, 1)
    for k in range(3):
        for i in range(residents):
            services(app).queue.store(_report(f"o{i}", 8_000_000_000 + k * 1_000_000 + i), utcnow())
    services(app).engine.dispose()
    ctx = multiprocessing.get_context("spawn")  # no engine or Redis connection crosses a fork
    ready, results = ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=_answering_worker, args=(settings, ready, results)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    ready.wait()
    done = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    answered = sum(count for count, _ in done)
    return answered, answered / max(max(wall for _, wall in done), 1e-9)
