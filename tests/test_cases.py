"""The case lifecycle API: numbers, routing, transitions, audit, notifications, the case CLI."""
from __future__ import annotations

import json
import multiprocessing
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.clock import to_local, utcnow
from bot.domain import cases
from bot.errors import InvalidTransition, NotFound
from bot.storage.db import make_engine
from bot.storage.models import Case, Resident
from scheduler import staff_alert_jobs
from scheduler.jobs import drain_outbox
from tests.helpers_intake import BOUND, UNMANAGED, cases_of, events, outbox

NOW = datetime(2026, 11, 25, 2, 0)  # 10:00 in Beijing


def _resident(db, openid: str = BOUND) -> Resident:
    return db.scalars(select(Resident).where(Resident.openid == openid)).one()


def _create(db, text: str = "楼上漏水", intent: str = "leak", openid: str = BOUND, now: datetime = NOW) -> Case:
    case = cases.create_case(db, openid=openid, text=text, intent=intent, priority="urgent", also=(),
                             resident=_resident(db, openid), now=now)
    db.commit()
    return case


def test_numbers_count_per_local_day(street):
    first, second = _create(street), _create(street, "厨房漏水")
    late = _create(street, "卫生间漏水", now=datetime(2026, 11, 25, 16, 30))  # 00:30 on the 26th in Beijing
    assert (first.number, second.number, late.number) == ("20261125-0001", "20261125-0002", "20261126-0001")


def test_create_copies_address_routes_and_notifies(street):
    case = _create(street)
    resident = _resident(street)
    assert (case.compound_id, case.building_id, case.unit, case.room) == (
        resident.compound_id, resident.building_id, resident.unit, resident.room)
    assert case.community.name == "茶马南街社区" and case.department == "property"
    assert case.due_at == NOW + timedelta(hours=24)
    [created] = events(street, case)
    assert (created.kind, created.actor, created.data["inform"]) == ("created", "resident", ["grid"])
    assert {r.openid for r in outbox(street, "staff")} == {"demo-staff-property-1", "demo-staff-grid-1"}


@pytest.mark.parametrize("steps,status", [
    (["accept"], "in_progress"),
    (["resolve"], "resolved"),
    (["accept", "resolve", "close"], "closed"),
    (["accept", "resolve", "reopen"], "open"),
    (["resolve", "close", "reopen", "accept"], "in_progress"),
    (["cancel"], "cancelled"),
])
def test_allowed_transitions(street, steps, status):
    case = _create(street)
    for i, action in enumerate(steps):
        cases.transition(street, case, action, actor="王物业", now=NOW + timedelta(hours=i + 1))
    street.commit()
    assert case.status == status
    assert [e.kind for e in events(street, case)] == ["created", *steps]
    assert all(e.actor == "王物业" for e in events(street, case)[1:])


@pytest.mark.parametrize("steps,bad", [
    ([], "close"), ([], "reopen"), (["accept"], "cancel"), (["accept"], "accept"),
    (["resolve"], "resolve"), (["cancel"], "accept"), ([], "explode"),
])
def test_disallowed_transitions_raise(street, steps, bad):
    case = _create(street)
    for action in steps:
        cases.transition(street, case, action, actor="x", now=NOW)
    with pytest.raises(InvalidTransition):
        cases.transition(street, case, bad, actor="x", now=NOW)


def test_times_and_reopen_resets(street):
    case = _create(street)
    cases.transition(street, case, "accept", actor="a", now=NOW + timedelta(hours=1))
    cases.transition(street, case, "resolve", actor="a", now=NOW + timedelta(hours=3))
    assert case.first_response_at == NOW + timedelta(hours=1) and case.resolved_at == NOW + timedelta(hours=3)
    case.followup_state, case.followup_asked_at = "asked", NOW + timedelta(hours=4)
    cases.transition(street, case, "reopen", actor="resident", now=NOW + timedelta(hours=5), note="还在漏")
    assert (case.reopen_count, case.resolved_at, case.closed_at, case.followup_state, case.followup_asked_at) == (
        1, None, None, None, None)
    assert case.first_response_at == NOW + timedelta(hours=1)
    assert case.due_at == NOW + timedelta(hours=5 + 24)


def test_resident_told_of_accept_resolve_reopen_only(street):
    case = _create(street)
    for action in ("accept", "resolve", "close", "reopen"):
        cases.transition(street, case, action, actor="a", now=NOW)
    rows = outbox(street, "case_status", BOUND)
    assert [r.key.split(":")[2] for r in rows] == ["accept", "resolve", "reopen"]
    assert all(case.number in r.payload["text"] for r in rows)


def test_reassign_notifies_new_department(street):
    case = _create(street, "隔壁私搭乱建", "construction")
    cases.reassign(street, case, "grid", actor="陈主任", now=NOW, note="先调解")
    street.commit()
    assert case.department == "grid"
    assert events(street, case)[-1].data == {"from": "enforcement", "to": "grid"}
    assert "demo-staff-grid-1" in {r.openid for r in outbox(street, "staff")}


def test_get_by_number(street):
    case = _create(street)
    assert cases.get_by_number(street, case.number).id == case.id
    with pytest.raises(NotFound):
        cases.get_by_number(street, "19990101-0001")


def _burst(url: str, count: int, queue: multiprocessing.Queue) -> None:
    """One worker process creating cases as fast as it can."""
    factory = sessionmaker(make_engine(url), expire_on_commit=False)
    numbers = []
    for _ in range(count):
        with factory() as session:
            resident = session.scalars(select(Resident).where(Resident.openid == BOUND)).one()
            case = cases.create_case(session, openid=BOUND, text="漏水", intent="leak", priority="urgent",
                                     also=(), resident=resident, now=NOW)
            session.commit()
            numbers.append(case.number)
    queue.put(numbers)


def test_case_numbers_unique_across_processes(street, settings):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_burst, args=(settings["DATABASE_URL"], 8, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    numbers = [n for _ in workers for n in queue.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
    day = to_local(NOW).strftime("%Y%m%d")
    assert sorted(numbers) == [f"{day}-{i:04d}" for i in range(1, 33)]
    assert len(cases_of(street, BOUND)) == 32


def test_cli_resolve_reaches_resident_through_outbox(app, wechat, street, runner, standin):
    wechat.send_text("楼上漏水了", openid=BOUND)
    [case] = cases_of(street, BOUND)
    result = runner.invoke(args=["case", "resolve", case.number, "--note", "已更换水管", "--by", "王物业"])
    assert result.exit_code == 0, result.output
    [case] = cases_of(street, BOUND)
    assert (case.status, events(street, case)[-1].actor) == ("resolved", "王物业")
    staff_alert_jobs.run(app, datetime(2026, 12, 1, 4, 0))  # the staff's alert summary (noon in Beijing)
    drain_outbox(app, utcnow())
    to_resident = [s for s in standin.sent() if s["openid"] == BOUND]
    assert len(to_resident) == 1 and case.number in json.dumps(to_resident[0]["body"], ensure_ascii=False)
    assert "已更换水管" in json.dumps(to_resident[0]["body"], ensure_ascii=False)
    staff = {s["openid"] for s in standin.sent()} - {BOUND}
    assert staff == {"demo-staff-property-1", "demo-staff-grid-1"}


@pytest.mark.parametrize("args,message", [
    (["case", "accept", "19990101-0001"], "没有编号为 19990101-0001 的工单"),
    (["case", "close", "{number}"], "当前为“待受理”，不能关闭"),
])
def test_cli_case_errors_are_clear(street, runner, args, message):
    case = _create(street)
    result = runner.invoke(args=[a.format(number=case.number) for a in args])
    assert result.exit_code == 1 and message in result.output


def test_cli_cases_json(street, runner):
    case = _create(street)
    cases.transition(street, case, "accept", actor="a", now=NOW + timedelta(minutes=30))
    street.commit()
    _create(street, "漏水", openid=UNMANAGED)
    result = runner.invoke(args=["cases", "--json"])
    rows = json.loads(result.output)
    assert [r["number"] for r in rows] == ["20261125-0001", "20261125-0002"]
    first = rows[0]
    assert {k: first[k] for k in ("openid", "intent", "priority", "status", "department", "compound", "building",
                                  "reopen_count", "satisfaction")} == {
        "openid": BOUND, "intent": "leak", "priority": "urgent", "status": "in_progress", "department": "property",
        "compound": "马连道南口三区", "building": "5", "reopen_count": 0, "satisfaction": None}
    assert (first["created_at"], first["due_at"], first["first_response_at"], first["resolved_at"]) == (
        "2026-11-25T02:00:00", "2026-11-26T02:00:00", "2026-11-25T02:30:00", None)
    assert rows[1]["department"] == "repair"


# --- routing.yaml: the one home of department and time limit ---------------------------------------

def _rules_file(tmp_path, text: str):  # type: ignore[no-untyped-def]
    from pathlib import Path

    path = Path(tmp_path) / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("rule,message", [
    ("{intent: leak, department: property}", "rule 1: missing 'hours'"),
    ("{intent: leak, department: police, hours: 2}", "rule 1: unknown department 'police'"),
    ("{intent: leak, department: admin, hours: 2}", "rule 1: unknown department 'admin'"),
    ("{intent: leak, situation: moon, department: property, hours: 2}", "rule 1: unknown situation 'moon'"),
    ("{intent: leak, department: property, hours: -1}", "rule 1: hours must be a positive number"),
    ("{intent: leak, department: property, hours: 2, colour: red}", "rule 1: unknown key 'colour'"),
])
def test_bad_routing_rule_names_the_entry(tmp_path, rule: str, message: str) -> None:
    from bot.domain import routing
    from bot.errors import RoutingError

    with pytest.raises(RoutingError, match=message):
        routing.load_rules(_rules_file(tmp_path, f"rules:\n  - {rule}\n"))


def test_routing_must_cover_every_loaded_intent(tmp_path) -> None:
    from bot.domain import routing
    from bot.errors import RoutingError

    rules = routing.load_rules(_rules_file(tmp_path, "rules:\n  - {intent: leak, situation: managed, "
                                                     "department: property, hours: 24}\n"))
    with pytest.raises(RoutingError, match="no rule for intent 'leak' in situation 'unmanaged'"):
        routing.check_intents(rules, ["leak"])
    with pytest.raises(RoutingError, match="rule 1: unknown intent 'leak'"):
        routing.check_intents(rules, ["pest"])
    from handlers.intents import NAMES

    routing.check_intents(routing.load_rules(), [*NAMES, "noise"])  # the shipped table catches new intents


def test_a_raised_priority_shortens_the_time_limit_never_lengthens_it() -> None:
    from bot.domain import routing

    assert routing.decide("pest", "critical", "managed").time_limit == timedelta(hours=2)
    assert routing.decide("pest", "urgent", "managed").time_limit == timedelta(hours=24)
    assert routing.decide("leak", "urgent", "unmanaged").time_limit == timedelta(hours=2)
    assert routing.decide("construction", "high", "managed").time_limit == timedelta(hours=168)
