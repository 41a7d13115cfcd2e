"""Where a queued report's answer goes (issue 16, item 1). Prints; asserts nothing.

Stores WARM_UP + N reports from N known residents as a flood leaves them, answers the warm-up ones, then
answers the N with the scheduler's job and prints every kind of SQL statement and Redis command it ran per
report, with the lines of Mulin's code that caused it (a `before_cursor_execute` listener and a stack summary),
then cProfile's call count and top functions over N more reports (without the listeners). BENCH_REPORTS (100).
"""
from __future__ import annotations

import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _answer_cost  # noqa: E402
from bench.webhook_bench import embedded_redis, mulin_env, sqlite_clones  # noqa: E402

REPORTS = int(os.environ.get("BENCH_REPORTS", "100"))
OURS = ("/bot/", "/handlers/", "/scheduler/")


def origin() -> str:
    """The innermost two frames of Mulin's own code on the stack."""
    frames = [f for f in traceback.extract_stack() if any(p in f.filename for p in OURS)]
    return " < ".join(f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} {f.name}"
                      for f in reversed(frames[-2:]))


def main() -> None:
    from sqlalchemy import event

    from bot import create_app
    from bot.clock import utcnow
    from bot.services import services

    work = Path(tempfile.mkdtemp(prefix="mulin-answer-profile-"))
    server, redis = embedded_redis(work)
    base = dict(os.environ, MULIN_ENV="demo", WECHAT_TOKEN="bench", WECHAT_MODE="plaintext", LOG_LEVEL="WARNING")
    try:
        settings = mulin_env(base, sqlite_clones(work)("p"), redis("p"), False)
        app = create_app(settings | {"LOG_LEVEL": "WARNING"})
        svc = services(app)
        total = _answer_cost.WARM_UP + 2 * REPORTS
        queue = [_answer_cost._report(f"o{i}", 7_000_000_000 + i) for i in range(total)]
        for msg in queue[:_answer_cost.WARM_UP]:
            svc.queue.store(msg, utcnow())
        _answer_cost._answer_all(app, _answer_cost.WARM_UP)
        for msg in queue[_answer_cost.WARM_UP:_answer_cost.WARM_UP + REPORTS]:
            svc.queue.store(msg, utcnow())
        seen: Counter[tuple[str, str]] = Counter()

        def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
            seen[(" ".join(sql.split())[:90], origin())] += 1

        redis_seen: Counter[tuple[str, str]] = Counter()
        execute = type(svc.redis).execute_command

        def redis_command(client: Any, *args: Any, **options: Any) -> Any:
            redis_seen[(str(args[0]), origin())] += 1
            return execute(client, *args, **options)

        type(svc.redis).execute_command = redis_command  # type: ignore[method-assign]
        _answer_cost.quiet()
        event.listen(svc.engine, "before_cursor_execute", statement)
        answered = _answer_cost._answer_all(app, REPORTS)
        event.remove(svc.engine, "before_cursor_execute", statement)
        type(svc.redis).execute_command = execute  # type: ignore[method-assign]
        for msg in queue[_answer_cost.WARM_UP + REPORTS:]:  # then N more, profiled without the listeners
            svc.queue.store(msg, utcnow())
        _answer_cost.quiet()
        profile = cProfile.Profile()
        profile.enable()
        profiled = _answer_cost._answer_all(app, REPORTS)
        profile.disable()
        n = max(answered, 1)
        print(f"{answered} reports answered; {sum(seen.values()) / n:.2f} statements per report:")
        for (sql, where), count in sorted(seen.items(), key=lambda kv: -kv[1]):
            print(f"  {count / n:5.2f}  {sql}\n         {where}")
        print(f"{sum(redis_seen.values()) / n:.2f} Redis commands per report (pipelines not counted):")
        for (command, where), count in sorted(redis_seen.items(), key=lambda kv: -kv[1]):
            print(f"  {count / n:5.2f}  {command}\n         {where}")
        stats = pstats.Stats(profile)
        calls = sum(v[1] for v in stats.stats.values())  # type: ignore[attr-defined]
        print(f"\n{calls / max(profiled, 1):.0f} Python calls per report (cProfile, {profiled} more reports); "
              "top by cumulative time:")
        stats.sort_stats("cumulative").print_stats(40)
        svc.engine.dispose()
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
