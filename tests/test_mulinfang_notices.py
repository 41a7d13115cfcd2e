"""睦邻坊 first (issue 15, item 2a): a building's group gets its cleanup notice, with the unit-door sheet as text,
before the residents' send — a day ahead, or at once and first when the notice is sent at once."""
from __future__ import annotations

from datetime import timedelta

from bot.clock import fmt_local
from bot.domain import notices
from scheduler.runner import run_once
from tests.helpers_outreach import NOW, received, street, texts

CLEANUP = NOW + timedelta(days=10)
DAY = timedelta(days=1)
RESIDENTS = {f"o-和平里-{b}-{i}" for b in ("1", "2") for i in range(2)}


def _member(runner, openid: str, building: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["mulinfang", "add", "--compound", "和平里", "--building", building,
                                 "--openid", openid, "--name", "赵大姐", "--role", "楼门长"])
    assert result.exit_code == 0, result.output


def _notice(runner, at: str) -> int:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["notice", "create", "--at", at, "--text", "请将楼道内的自行车和纸箱搬回家中",
                                 "--compound", "和平里", "--buildings", "1,2"])
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1])  # after the reach forecast


def test_the_group_gets_the_notice_a_day_before_the_residents(app, db, runner, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)
    _member(runner, "o-captain-1", "1")
    _member(runner, "o-captain-6", "6")  # 6号楼 is not in the notice
    notice_id = _notice(runner, fmt_local(CLEANUP))
    run_once(app, CLEANUP - 8 * DAY - timedelta(hours=1))
    assert not standin.sent()
    run_once(app, CLEANUP - 8 * DAY)  # a day before the residents' 7-day message
    assert received(standin) == {"o-captain-1": 1}
    (first,) = texts(standin, "o-captain-1")
    assert "睦邻坊" in first and "和平里1号楼" in first and fmt_local(CLEANUP - 7 * DAY) in first
    assert "楼道清理通知" in first and "请将楼道内的自行车和纸箱搬回家中" in first  # the door sheet, as text
    assert "不用微信的邻居" in first
    notices.update_notice(db, notice_id, text="请将楼道内的自行车、纸箱和花盆搬回家中", actor="test",
                          now=CLEANUP - 8 * DAY)  # changed before the residents' send: the group hears again
    db.commit()
    run_once(app, CLEANUP - 8 * DAY + timedelta(minutes=1))
    assert received(standin) == {"o-captain-1": 2} and "花盆" in texts(standin, "o-captain-1")[-1]
    run_once(app, CLEANUP - 7 * DAY)
    assert set(received(standin)) == RESIDENTS | {"o-captain-1"} and received(standin)["o-captain-1"] == 2
    run_once(app, CLEANUP - DAY)  # the residents' 1-day message: the group was told already
    assert received(standin)["o-captain-1"] == 2 and received(standin)["o-和平里-1-0"] == 2


def test_a_notice_sent_at_once_reaches_the_group_first(app, db, runner, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)
    _member(runner, "o-captain-2", "2")
    _notice(runner, fmt_local(NOW + timedelta(hours=30)))
    run_once(app, NOW)
    order = [r["openid"] for r in standin.sent()]
    assert order[0] == "o-captain-2" and set(order[1:]) == RESIDENTS
    run_once(app, NOW + timedelta(minutes=5))
    assert received(standin)["o-captain-2"] == 1
