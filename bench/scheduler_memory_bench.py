"""The scheduler's memory through a long flood (issue 16: under 200 MB after 50,000 messages). Prints; asserts nothing.

BENCH_MESSAGES (50,000) reports from the bench's 5,000 known residents are stored as queued, as a flood leaves them
(ten per resident, interleaved), on SQLite; then the WeChat stand-in and `python -m scheduler` start as deployed
(REPLY_RATE_PER_SECOND lifted, so the sends keep up; MALLOC_ARENA_MAX=2 unless set otherwise, as the README's
units run it) and answer and send them all. The scheduler's resident memory
is printed after its warm-up and every 10,000 answers until the queue is empty and every answer sent, then the
checks: every message answered, in order per resident, none twice. bench/webhook_bench.py measures the web
workers' memory after as many.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _answer_cost, _checks, _procs, _wrk  # noqa: E402
from bench.webhook_bench import embedded_redis, mulin_env, progress, sqlite_clones  # noqa: E402
from bot.devtools.launcher import SCHEDULER_ENV  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "50000"))
STEP = 10_000
TIMEOUT = float(os.environ.get("BENCH_DRAIN_TIMEOUT", "1800"))
UNSENT = "select count(*) from outbox where purpose = 'reply' and status in ('pending', 'sending')"  # the answers


def store_queue(settings: dict[str, str]) -> None:
    """MESSAGES reports stored as queued by the burst writer, residents interleaved."""
    from bot import create_app
    from bot.clock import utcnow
    from bot.services import services

    app = create_app(settings | {"LOG_LEVEL": "WARNING"})
    queue = services(app).queue
    for n in range(MESSAGES):
        queue.store(_answer_cost._report(f"o{n % _wrk.RESIDENTS}", 3_000_000_000 + n), utcnow())
    services(app).engine.dispose()


def unsent(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        count = int(conn.execute(text(UNSENT)).scalar_one())
    engine.dispose()
    return count


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="mulin-scheduler-memory-"))
    server, redis = embedded_redis(work)
    procs = []
    try:
        url = sqlite_clones(work)("memory")
        base = dict(os.environ, PYTHONPATH=str(ROOT), WECHAT_TOKEN=_wrk.TOKEN, MULIN_ENV="demo",
                    LOG_LEVEL="WARNING", WECHAT_MODE="plaintext", REPLY_RATE_PER_SECOND="0")
        env = mulin_env(base, url, redis("memory"), False)
        started = time.monotonic()
        store_queue(env)
        print(f"scheduler memory: {MESSAGES:,} reports stored as queued in {time.monotonic() - started:.0f} s",
              flush=True)
        port = _procs.free_port()
        logs = ROOT / "bench" / "results" / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        procs.append(_procs.start([sys.executable, "-m", "bot.devtools.standin", "--port", str(port)], env, ROOT,
                                  logs / "memory-standin.log"))
        _procs.wait_port(port, proc=procs[0])
        sched_env = {**SCHEDULER_ENV, **env,  # as the README's units and `make run` start it
                     "WECHAT_API_BASE_URL": f"http://127.0.0.1:{port}/cgi-bin/", "TEMPLATE_IDS": "default=bench"}
        scheduler = _procs.start([sys.executable, "-m", "scheduler"], sched_env, ROOT, logs / "memory-scheduler.log")
        procs.append(scheduler)
        started, deadline, mark, first = time.monotonic(), time.monotonic() + TIMEOUT, STEP, True
        answered = 0
        while time.monotonic() < deadline:
            time.sleep(1)
            _, answered = progress(url)
            if first and answered > 0:
                print(f"  RSS after its warm-up (first answers): {_procs.rss_mb(scheduler.pid) or 0:.0f} MB",
                      flush=True)
                first = False
            while answered >= mark:
                print(f"  RSS after {mark:,} answered: {_procs.rss_mb(scheduler.pid) or 0:.0f} MB "
                      f"({time.monotonic() - started:.0f} s)", flush=True)
                mark += STEP
            if answered >= MESSAGES and unsent(url) == 0:
                break
        print(f"  all {answered:,} answered and sent in {time.monotonic() - started:.0f} s "
              f"({answered / (time.monotonic() - started):.0f}/s with the sends): RSS "
              f"{_procs.rss_mb(scheduler.pid) or 0:.0f} MB  [target < 200 MB after 50,000]")
        print(f"  check: {_checks.check(url).line()}")
    finally:
        _procs.stop(procs)
        server.shutdown()  # type: ignore[attr-defined]
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
