"""The answer path keeps what it may per process and per message (issue 16) without answering differently:
the staff list is read afresh once staff change anywhere (another process, another engine, a bulk statement),
and a neighbour's report of the same kind joins the building's group while its alerts and answer are queued."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.constants import Purpose
from bot.storage.db import connect
from bot.storage.models import Case, Resident, Staff
from tests.helpers_intake import BOUND, cases_of, outbox

NEIGHBOUR = "o-neighbour"  # bound below to BOUND's building, another flat


def _elsewhere(database_url: str, change: Callable[[Session], object]) -> None:
    """A change made the way `flask --app bot import-staff` or the console makes it: its own engine."""
    engine, sessions = connect(database_url)
    with sessions() as session:
        change(session)
        session.commit()
    engine.dispose()


def _alerted(db: Session, case: Case) -> set[str]:
    return {row.openid for row in outbox(db, Purpose.STAFF) if row.case_id == case.id}


def _neighbour_of(case: Case) -> Callable[[Session], object]:
    return lambda s: s.add(Resident(openid=NEIGHBOUR, compound_id=case.compound_id, building_id=case.building_id,
                                    unit="9", room="909", subscribed=True, created_at=utcnow()))


def test_staff_added_or_removed_elsewhere_get_the_next_case_alerts_or_none(settings, street, wechat) -> None:  # type: ignore[no-untyped-def]
    assert wechat.send_text("厨房水管漏水了", openid=BOUND).text  # the process now keeps the staff list
    [first] = cases_of(street, BOUND)
    before = _alerted(street, first)
    assert before and "o-new-staff" not in before
    url = str(settings["DATABASE_URL"])
    _elsewhere(url, _neighbour_of(first))
    _elsewhere(url, lambda s: s.add(Staff(name="新来的", openid="o-new-staff", department=first.department)))
    assert wechat.send_text("我家厨房也漏水了", openid=NEIGHBOUR).text
    [second] = cases_of(street, NEIGHBOUR)
    assert second.department == first.department
    assert _alerted(street, second) == before | {"o-new-staff"}
    _elsewhere(url, lambda s: s.execute(delete(Staff).where(Staff.openid == "o-new-staff")))  # a bulk DELETE
    assert wechat.send_text("家里停水了，一滴水都没有", openid=NEIGHBOUR).text
    third = cases_of(street, NEIGHBOUR)[-1]
    assert third.id != second.id
    assert "o-new-staff" not in _alerted(street, third)


def test_a_neighbours_report_of_the_same_kind_joins_the_buildings_group(settings, street, wechat) -> None:  # type: ignore[no-untyped-def]
    assert wechat.send_text("厨房水管漏水了", openid=BOUND).text
    [first] = cases_of(street, BOUND)
    assert first.group_id is None  # on its own so far
    _elsewhere(str(settings["DATABASE_URL"]), _neighbour_of(first))
    assert wechat.send_text("我家厨房也漏水了", openid=NEIGHBOUR).text
    [first] = cases_of(street, BOUND)
    [second] = cases_of(street, NEIGHBOUR)
    assert first.group_id == second.group_id == first.id  # the first report starts the group
    assert _alerted(street, second)
    assert wechat.send_text("卫生间也漏了", openid=NEIGHBOUR).text
    assert [case.id for case in cases_of(street, NEIGHBOUR)] == [second.id]  # joins their open case
