"""The answering alone, without wrk (issue 16, items 1 and 2). Prints; asserts nothing.

On SQLite, then on a throwaway PostgreSQL cluster when a server is installed: the answer cost per report of the
scheduler's job in process (CPU ms, SQL statements, commits; BENCH_COST_ROUNDS rounds, default 3, each on a fresh
copy of the database), then the job in one and in two processes at once over one queue of reports, three per
resident (answered per second, and the checks: every message answered, in order per resident, none twice).
CPU figures move with the machine's load: compare figures of one run only. bench/webhook_bench.py measures the
same beside the webhook under wrk.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _answer_cost, _postgres  # noqa: E402
from bench.webhook_bench import REPORTS, embedded_redis, mulin_env, prepare, scale_out, sqlite_clones  # noqa: E402

COST_ROUNDS = int(os.environ.get("BENCH_COST_ROUNDS", "3"))


def backend(label: str, base: dict[str, str], clone: Callable[[str], str], redis: Callable[[str], str]) -> None:
    """The cost rounds, then one and two answering processes, on one kind of database."""
    print(f"{label}:", flush=True)
    for n in range(1, COST_ROUNDS + 1):
        name = f"cost-{n}"
        cost = _answer_cost.measure(mulin_env(base, clone(name), redis(name), False), REPORTS)
        print(f"  answer cost, round {n}: {cost.line()}  [target ≤ 1 ms, ≤ 6 statements on SQLite]", flush=True)
    scale_out(base, clone, redis)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="mulin-answer-bench-"))
    server, redis = embedded_redis(work)
    base = dict(os.environ, MULIN_ENV="demo", WECHAT_TOKEN="bench", WECHAT_MODE="plaintext", LOG_LEVEL="WARNING")
    try:
        backend("SQLite", base, sqlite_clones(work), lambda n: redis(f"sqlite-{n}"))
        bindir = _postgres.server_bin()
        if os.environ.get("BENCH_POSTGRES") == "0" or bindir is None:
            print("PostgreSQL: skipped (" + ("BENCH_POSTGRES=0" if bindir else "no postgresql server installed") + ")")
            return
        cluster = _postgres.Cluster(bindir)
        try:
            prepare(cluster.database("template"), work)
            backend(f"PostgreSQL {cluster.version} (a throwaway cluster on 127.0.0.1:{cluster.port})", base,
                    lambda name: cluster.database(name, "template"), lambda n: redis(f"pg-{n}"))
        finally:
            cluster.stop()
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
