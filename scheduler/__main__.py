"""python -m scheduler [--once [--now "YYYY-MM-DD HH:MM"] | --answer-only]"""
from __future__ import annotations

import argparse
import json
import os
import sys

from bot import create_app
from bot.clock import parse_local
from scheduler.runner import answer_forever, run_forever, run_once


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the scheduler."""
    parser = argparse.ArgumentParser(prog="python -m scheduler", description="Mulin's scheduler")
    parser.add_argument("--once", action="store_true", help="run every due job once and exit")
    parser.add_argument("--now", help='with --once: act as if it were this time, "YYYY-MM-DD HH:MM" Asia/Shanghai')
    parser.add_argument("--answer-only", action="store_true",
                        help="only answer queued messages, beside the scheduler (several such workers may run)")
    args = parser.parse_args(argv)
    if args.now and not args.once:
        parser.error("--now goes with --once")
    if args.answer_only and args.once:
        parser.error("--answer-only runs until stopped; it does not go with --once")
    try:
        now = parse_local(args.now) if args.now else None
    except ValueError:
        parser.error('--now takes "YYYY-MM-DD HH:MM"')
    app = create_app()
    if args.once:
        counts = run_once(app, now)
        print(json.dumps(counts, ensure_ascii=False, default=str))
        return 1 if any(c.get("error") for c in counts.values()) else 0
    if app.config["SCHEDULER_NICE"] > 0:  # the web workers on this machine first (bot.config)
        os.nice(app.config["SCHEDULER_NICE"])
    if args.answer_only:
        answer_forever(app)
        return 0
    run_forever(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
