"""Renovation projects (老旧小区整治): CLI, works notices before each phase, questions answered from the
project's data with no case, 施工扰民 complaints linked to the project and routed to its unit."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.clock import to_local, utcnow
from bot.domain.projects import CATEGORIES
from bot.storage.models import Case, Outbox, ProjectCase
from scheduler import consult_jobs
from scheduler.runner import run_once
from tests.helpers_outreach import received, staff, street, texts

TODAY = to_local(utcnow()).date()  # the webhook answers as of the real clock
PHASE1 = ("拆除违建", TODAY - timedelta(days=2), TODAY + timedelta(days=10))
PHASE2 = ("管线改造", TODAY + timedelta(days=11), TODAY + timedelta(days=40))
UNIT = "区住建委老旧小区改造办"
CONTACT = "010-66668888"
AFFECTED = {f"o-和平里-{b}-{i}" for b in ("1", "2") for i in range(2)}


def phase(name: str, start: date, end: date) -> str:
    return f"{name},{start.isoformat()},{end.isoformat()}"


def morning(day: date) -> datetime:
    """09:00 Beijing on that day, as naive UTC."""
    return datetime.combine(day, time(9, 0)) - timedelta(hours=8)


def create(runner, *args: str) -> int:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["project", "create", *args])
    assert result.exit_code == 0, result.output
    return int(result.output.strip())


def elevator_project(runner) -> int:  # type: ignore[no-untyped-def]
    return create(runner, "--name", "和平里老旧小区综合整治", "--category", "老旧小区综合改造类",
                  "--compound", "和平里", "--buildings", "1,2", "--unit", UNIT, "--contact", CONTACT,
                  "--unit-openid", "o-unit", "--phase", phase(*PHASE2), "--phase", phase(*PHASE1))


def test_works_notice_before_each_phase(app, db, runner, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)
    elevator_project(runner)
    run_once(app, morning(TODAY))  # phase 1 is under way and was never announced: announced now
    run_once(app, morning(TODAY) + timedelta(minutes=5))
    assert set(received(standin)) == AFFECTED and set(received(standin).values()) == {1}
    (first,) = texts(standin, "o-和平里-1-0")
    assert "施工告知" in first and "拆除违建" in first and UNIT in first and CONTACT in first
    assert "和平里1号楼、和平里2号楼" in first
    run_once(app, morning(PHASE2[1] - timedelta(days=4)))
    assert set(received(standin).values()) == {1}  # phase 2 is more than three days away
    run_once(app, morning(PHASE2[1] - timedelta(days=3)))
    run_once(app, morning(PHASE2[1]))
    assert set(received(standin)) == AFFECTED and set(received(standin).values()) == {2}
    assert "管线改造" in texts(standin, "o-和平里-2-1")[-1]


def test_question_answered_from_the_project_with_no_case(app, db, runner, wechat) -> None:  # type: ignore[no-untyped-def]
    street(db)
    elevator_project(runner)
    reply = wechat.send_text("我们小区什么时候改造？", openid="o-和平里-1-0").text
    assert "和平里老旧小区综合整治" in reply and "第1阶段“拆除违建”" in reply
    assert f"{PHASE1[1].year}年{PHASE1[1].month}月{PHASE1[1].day}日" in reply
    assert "下一阶段“管线改造”" in reply and f"{PHASE2[2].month}月{PHASE2[2].day}日完工" in reply
    assert UNIT in reply and CONTACT in reply
    assert "完工" in wechat.send_text("工地什么时候完工", openid="o-和平里-2-0").text
    elsewhere = wechat.send_text("我们小区什么时候改造", openid="o-和平里-6-0").text  # building 6 is not touched
    assert "没有登记的整治改造项目" in elsewhere
    assert not db.scalars(select(Case)).all()


def test_question_from_an_unknown_address_asks_for_it(app, db, runner, wechat) -> None:  # type: ignore[no-untyped-def]
    street(db)
    elevator_project(runner)
    assert "修改地址" in wechat.send_text("小区什么时候改造", openid="o-new").text
    assert not db.scalars(select(Case)).all()


def test_disturbance_complaint_is_linked_and_routed_to_the_unit(app, db, runner, standin, wechat) -> None:  # type: ignore[no-untyped-def]
    street(db)
    staff(db, "o-community", "community")
    pid = elevator_project(runner)
    reply = wechat.send_text("工地晚上十一点还在施工，太吵了睡不着", openid="o-和平里-2-0").text
    case = db.scalars(select(Case).where(Case.openid == "o-和平里-2-0")).one()
    assert case.number in reply and UNIT in reply and CONTACT in reply
    assert (case.department, case.intent) == ("project", "works")
    assert (case.due_at - case.created_at) == timedelta(hours=24)
    link = db.scalars(select(ProjectCase)).one()
    assert (link.project_id, link.case_id) == (pid, case.id)
    unit_rows = db.scalars(select(Outbox).where(Outbox.openid == "o-unit")).all()
    assert len(unit_rows) == 1 and case.number in unit_rows[0].payload["text"]
    assert "和平里老旧小区综合整治" in unit_rows[0].payload["text"]
    wechat.send_image(openid="o-和平里-2-0")  # a photo joins the project's case
    assert any(e.kind == "photo" for e in db.get(Case, case.id).events)
    run_once(app, utcnow())
    assert received(standin)["o-unit"] == 1 and received(standin)["o-community"] == 1  # the community hears once
    shown = runner.invoke(args=["project", "show", str(pid)]).output
    assert "第1阶段 拆除违建" in shown and "第2阶段 管线改造" in shown and "和平里1号楼、和平里2号楼" in shown
    assert "关联工单 1 件" in shown and case.number in shown and "响应率" in shown and "满意率" in shown


def test_complaints_outside_the_project_are_handled_as_usual(app, db, runner, wechat) -> None:  # type: ignore[no-untyped-def]
    street(db)
    street(db, compound="安华里")
    elevator_project(runner)
    create(runner, "--name", "安华里停车改造", "--category", "停车秩序类", "--compound", "安华里",
           "--unit", "街道城管科", "--contact", "010-1", "--phase", phase(*PHASE2))  # not started yet
    wechat.send_text("工地晚上施工太吵了", openid="o-和平里-6-0")  # building 6 is not touched
    wechat.send_text("工地晚上施工太吵了", openid="o-安华里-1-0")  # no phase under way
    cases = db.scalars(select(Case).order_by(Case.id)).all()
    assert len(cases) == 2 and all(c.department != "project" for c in cases)
    assert not db.scalars(select(ProjectCase)).all()


def test_list_and_refusals(app, db, runner) -> None:  # type: ignore[no-untyped-def]
    street(db)
    pid = elevator_project(runner)
    listing = runner.invoke(args=["project", "list"]).output
    assert f"#{pid} [施工中] 和平里老旧小区综合整治（老旧小区综合改造类）" in listing and UNIT in listing
    bad = runner.invoke(args=["project", "create", "--name", "x", "--category", "别的类", "--compound", "和平里",
                              "--unit", "u", "--contact", "c", "--phase", phase(*PHASE1)])
    assert bad.exit_code != 0
    wrong = runner.invoke(args=["project", "create", "--name", "x", "--category", CATEGORIES[0], "--compound",
                                "和平里", "--unit", "u", "--contact", "c", "--phase", "拆除,2026-13-01,2026-12-01"])
    assert wrong.exit_code != 0 and "操作未完成" in wrong.output and "YYYY-MM-DD" in wrong.output
    missing = runner.invoke(args=["project", "show", "999"])
    assert missing.exit_code != 0 and "操作未完成" in missing.output


@pytest.mark.parametrize("text", ["我们小区什么时候改造", "工地什么时候完工", "改造进度怎么样了"])
def test_questions_open_no_case_even_without_a_project(app, db, wechat, text: str) -> None:  # type: ignore[no-untyped-def]
    street(db)
    assert "没有登记的整治改造项目" in wechat.send_text(text, openid="o-和平里-1-0").text
    assert not db.scalars(select(Case)).all()


def test_import_from_csv(app, db, runner, wechat, tmp_path) -> None:  # type: ignore[no-untyped-def]
    street(db)
    street(db, compound="安华里")
    path = tmp_path / "projects.csv"
    path.write_text(
        "name,category,compound,buildings,alleys,unit,contact,unit_openids,phase,starts_on,ends_on\n"
        f"和平里综合整治,老旧小区综合改造类,和平里,1号楼、2号楼,,{UNIT},{CONTACT},o-unit,{PHASE1[0]},{PHASE1[1]},{PHASE1[2]}\n"
        f"和平里综合整治,,,,,,,,{PHASE2[0]},{PHASE2[1]},{PHASE2[2]}\n"
        f"安华里背街整治,环境提升类,,,安华里胡同,街道城管科,010-2,,铺装,{PHASE2[1]},{PHASE2[2]}\n",
        encoding="utf-8-sig")
    result = runner.invoke(args=["project", "import", str(path)])
    assert result.exit_code == 0 and "已导入 2 个整治项目" in result.output, result.output
    again = runner.invoke(args=["project", "import", str(path)])
    assert "已导入 0 个" in again.output and "2 个同名项目已存在" in again.output
    listing = runner.invoke(args=["project", "list"]).output
    assert "和平里综合整治（老旧小区综合改造类）和平里1号楼、和平里2号楼" in listing and "安华里胡同" in listing
    reply = wechat.send_text("工地什么时候完工", openid="o-和平里-1-0").text
    assert "第1阶段“拆除违建”" in reply and "下一阶段“管线改造”" in reply
    bad = tmp_path / "bad.csv"
    bad.write_text("name,category,compound,buildings,unit,contact,phase,starts_on,ends_on\n"
                   f"新项目,老旧小区综合改造类,和平里,9,u,c,拆除,{PHASE1[1]},{PHASE1[2]}\n", encoding="utf-8")
    failed = runner.invoke(args=["project", "import", str(bad)])
    assert failed.exit_code != 0 and "第 2 行" in failed.output and "没有这些楼：9" in failed.output


def test_a_suspended_project_sends_no_notice_and_takes_no_complaint(app, db, runner, standin, wechat) -> None:  # type: ignore[no-untyped-def]
    street(db)
    pid = elevator_project(runner)
    result = runner.invoke(args=["project", "status", str(pid), "suspended"])
    assert result.exit_code == 0 and "暂停" in result.output
    run_once(app, morning(TODAY))
    assert not standin.sent()
    wechat.send_text("工地晚上施工太吵了", openid="o-和平里-1-0")
    assert db.scalars(select(Case)).one().department != "project"
    assert "暂停" in runner.invoke(args=["project", "list"]).output
    runner.invoke(args=["project", "status", str(pid), "active"])
    run_once(app, morning(TODAY))
    assert set(received(standin)) == AFFECTED


def test_suspending_stops_works_notices_not_yet_sent(app, db, runner, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)
    pid = elevator_project(runner)
    with app.app_context():  # the fan-out alone, as if the drain had not come round yet
        assert consult_jobs.run(app, morning(TODAY))["works_notices"] == 4
    assert runner.invoke(args=["project", "status", str(pid), "suspended"]).exit_code == 0
    run_once(app, morning(TODAY))
    assert not standin.sent()
    assert {r.status for r in db.scalars(select(Outbox).where(Outbox.key.startswith(f"project:{pid}:")))} == {
        "cancelled"}
