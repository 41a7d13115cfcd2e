"""Shared steps for the outreach tests: a street with residents, cases, and counting sends."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.devtools.standin import StandIn
from bot.storage.models import Building, Case, Community, Compound, Resident, Staff


def _next_monday(days_ahead: int = 30) -> datetime:
    """Monday 10:00 Beijing (02:00 UTC) at least `days_ahead` from today, so CLI commands using
    the real clock see it as the future."""
    day = (utcnow() + timedelta(days=days_ahead)).replace(hour=2, minute=0, second=0, microsecond=0)
    return day + timedelta(days=(7 - day.weekday()) % 7)


NOW = _next_monday()  # naive UTC


def street(session: Session, residents_per_building: int = 2, buildings: tuple[str, ...] = ("1", "2", "6"),
           compound: str = "和平里", community: str = "和平社区", last_inbound: datetime | None = None) -> Compound:
    """A community with one compound of buildings, each with residents o-<compound>-<b>-<i>."""
    com = session.scalars(select(Community).where(Community.name == community)).one_or_none()
    if com is None:
        com = Community(name=community)
        session.add(com)
        session.flush()
    comp = Compound(name=compound, community_id=com.id)
    session.add(comp)
    session.flush()
    rows = []
    for name in buildings:
        b = Building(compound_id=comp.id, name=name, property_manager="物业")
        session.add(b)
        session.flush()
        rows += [{"openid": f"o-{compound}-{name}-{i}", "compound_id": comp.id, "building_id": b.id,
                  "subscribed": True, "last_inbound_at": last_inbound, "created_at": NOW - timedelta(days=30)}
                 for i in range(residents_per_building)]
    if rows:
        session.execute(insert(Resident), rows)
    session.commit()
    return comp


def staff(session: Session, openid: str, department: str, community_id: int | None = None) -> Staff:
    """A staff member of a department."""
    member = Staff(name=openid, openid=openid, department=department, community_id=community_id)
    session.add(member)
    session.commit()
    return member


def case(session: Session, number: str, openid: str, *, status: str = "open", created_at: datetime = NOW,
         limit: timedelta = timedelta(days=7), department: str = "property", **fields: object) -> Case:
    """A case row built directly (the intake path is tested elsewhere)."""
    row = Case(number=number, openid=openid, intent="leak", priority="normal", department=department,
               status=status, text="楼上漏水", created_at=created_at, due_at=created_at + limit,
               reopen_count=0, handoff=False, **fields)
    session.add(row)
    session.commit()
    return row


def received(standin: StandIn) -> Counter:
    """How many messages each openid received (custom or template)."""
    return Counter(r["openid"] for r in standin.sent())


def texts(standin: StandIn, openid: str) -> list[str]:
    """The texts one openid received, in order."""
    out = []
    for r in standin.sent():
        if r["openid"] == openid:
            body = r["body"]
            if r["kind"] == "custom":
                out.append(body["text"]["content"])
            else:  # a template message or subscription notice: its content field, else its fields in order
                data = body["data"]
                fields = [v["value"] for v in data.values()]
                out.append(data["content"]["value"] if "content" in data else " ".join(fields))
    return out


def scheduler_env(settings: dict[str, object], rate: float = 0) -> dict[str, str]:
    """Environment for a `python -m scheduler` subprocess sharing the test's database, Redis and stand-in."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "DATABASE_", "REDIS_"))}
    names = ("DATABASE_URL", "REDIS_URL", "WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_AES_KEY",
             "SECRET_KEY", "WECHAT_API_BASE_URL", "API_TOKEN", "QUIET_HOURS")  # the test's: none, at any hour
    env.update({name: str(settings[name]) for name in names})
    env.update({"MULIN_ENV": "test", "TEMPLATE_IDS": "default=tpl-default", "SEND_RATE_PER_SECOND": str(rate),
                "PYTHONUNBUFFERED": "1"})
    return env


def spawn_scheduler(settings: dict[str, object], *args: str, rate: float = 0):  # type: ignore[no-untyped-def]
    """Start `python -m scheduler ARGS` as a real process (stdout and stderr piped)."""
    import subprocess
    import sys
    from pathlib import Path

    return subprocess.Popen([sys.executable, "-m", "scheduler", *args], cwd=Path(__file__).resolve().parent.parent,
                            env=scheduler_env(settings, rate), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for_line(proc, text: str, timeout: float = 120) -> str:  # type: ignore[no-untyped-def]
    """Read the process's stderr until a line contains `text` (what it printed so far); fail after `timeout`."""
    import time

    deadline, lines = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if text in line:
            return "".join(lines)
    raise AssertionError(f"{text!r} never appeared: {''.join(lines)}")
