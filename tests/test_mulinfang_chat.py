"""睦邻坊 through the signed webhook, the console and the scheduler (issue 15, items 1 and 2): applying by chat
and the community's decision; the group told of new cases and confirming one; 代报 for an elderly neighbour."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.domain.mulinfang_alerts import load_settings
from bot.errors import RoutingError
from bot.storage.models import Case, MulinfangMember
from scheduler.runner import run_once
from tests.helpers_console import Console, add_user
from tests.helpers_intake import BOUND, cases_of, events, resident
from tests.helpers_outreach import texts

CAPTAIN = "o-captain"  # 马连道南口三区5号楼's 楼门长 (not a registered resident: a member need not be)


def _member(runner: FlaskCliRunner, openid: str = CAPTAIN, building: str = "5", role: str = "楼门长") -> None:
    result = runner.invoke(args=["mulinfang", "add", "--compound", "马连道南口三区", "--building", building,
                                 "--openid", openid, "--name", "赵大姐", "--role", role])
    assert result.exit_code == 0, result.output


def _application(db: Session, openid: str) -> MulinfangMember:
    db.expire_all()
    return db.scalars(select(MulinfangMember).where(MulinfangMember.openid == openid)).one()


def test_applying_by_chat_then_approved_or_declined_in_the_console(console: Console, wechat, db, app,  # type: ignore[no-untyped-def]
                                                                    standin) -> None:
    asked = wechat.send_text("我想加入睦邻坊", openid="o-new").text
    assert asked is not None and "住址" in asked
    saved = wechat.send_text("马连道南口三区5号楼1单元101", openid="o-new").text
    assert saved is not None and "已登记您的地址" in saved and "已收到您加入马连道南口三区5号楼睦邻坊的申请" in saved
    assert "社区会尽快审核" in saved
    again = wechat.send_text("我想加入睦邻坊", openid="o-new").text
    assert again is not None and "社区正在审核" in again
    direct = wechat.send_text("我也想当志愿者", openid=BOUND).text  # the address is known: no question
    assert direct is not None and "马连道南口三区5号楼睦邻坊" in direct
    faq = wechat.send_text("睦邻坊是干什么的？", openid="o-asker").text  # a question: the FAQ answers it
    assert faq is not None and "邻里自治小组" in faq
    assert not cases_of(db, "o-new") and not cases_of(db, BOUND) and not cases_of(db, "o-asker")  # no case
    assert _application(db, "o-new").status == "applied" and _application(db, BOUND).role == "志愿者"

    page = console.page("/console/mulinfang")
    assert "待审核的申请（2）" in page and 'data-openid="o-new"' in page
    new, bound = _application(db, "o-new"), _application(db, BOUND)
    assert console.post(f"/console/mulinfang/{new.id}/decide", decision="approve", name="李老师",
                        role="党员").status_code == 302
    assert console.post(f"/console/mulinfang/{bound.id}/decide", decision="reject").status_code == 302
    assert console.post(f"/console/mulinfang/{bound.id}/decide", decision="approve").status_code == 302
    assert _application(db, BOUND).status == "rejected"  # decided once: the second post changes nothing
    approved = _application(db, "o-new")
    assert (approved.status, approved.name, approved.role) == ("active", "李老师", "党员")
    page = console.page("/console/mulinfang")
    assert "暂无待审核的申请" in page and "马连道南口三区5号楼（1 人）" in page and "李老师" in page

    run_once(app, utcnow())
    assert any("社区已同意您加入马连道南口三区5号楼睦邻坊（党员）" in t for t in texts(standin, "o-new"))
    assert any("没有通过" in t for t in texts(standin, BOUND))
    assert resident(db, "o-new").building_id == approved.building_id  # type: ignore[union-attr]


def test_an_applicants_words_about_themselves_go_on_the_application(console: Console, wechat, db) -> None:  # type: ignore[no-untyped-def]
    """"我叫李建国，六十五了…" right after applying opened a 其他诉求 case; the clerk deciding never saw it."""
    wechat.send_text("我想当志愿者", openid="o-new")
    wechat.send_text("天宁寺北里6号楼3单元201", openid="o-new")
    said = wechat.send_text("我叫李建国，六十五了，身体还行，周末有空", openid="o-new").text
    assert said is not None and "已附在您的睦邻坊申请里" in said and "编号" not in said
    assert not cases_of(db, "o-new")
    application = _application(db, "o-new")
    assert application.intro == "我叫李建国，六十五了，身体还行，周末有空" and application.name == "李建国"
    page = console.page("/console/mulinfang")
    assert "申请人自我介绍：我叫李建国，六十五了，身体还行，周末有空" in page and 'value="李建国"' in page
    report = wechat.send_text("楼道灯坏了", openid="o-new").text  # the next message is a message like any other
    assert report is not None and "编号" in report and [c.intent for c in cases_of(db, "o-new")] == ["facility"]
    wechat.send_text("我想加入睦邻坊", openid=BOUND)  # a problem told right after applying is still a report
    told = wechat.send_text("对了，我家厨房水管漏水了", openid=BOUND).text
    assert told is not None and "编号" in told and _application(db, BOUND).intro is None


def test_staff_see_and_decide_only_their_communitys_applications(client, console: Console, wechat, db) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("我想加入睦邻坊", openid=BOUND)  # 茶马南街社区
    application = _application(db, BOUND)
    add_user(db, "tianning", community="天宁寺北里社区")
    add_user(db, "chama", community="茶马南街社区")
    console.client.post("/console/logout", data={"csrf_token": console.token("/console/cases")})
    assert console.login("tianning", "secret-pass-1").status_code == 302
    assert 'data-openid="demo-resident-1"' not in console.page("/console/mulinfang")
    assert console.post(f"/console/mulinfang/{application.id}/decide", decision="approve").status_code == 404
    console.client.post("/console/logout", data={"csrf_token": console.token("/console/cases")})
    assert console.login("chama", "secret-pass-1").status_code == 302
    assert 'data-openid="demo-resident-1"' in console.page("/console/mulinfang")
    assert console.post(f"/console/mulinfang/{application.id}/decide", decision="approve").status_code == 302
    assert _application(db, BOUND).status == "active"


def test_the_group_is_told_of_new_cases_and_confirms_one(console: Console, runner, wechat, db, app,  # type: ignore[no-untyped-def]
                                                        standin) -> None:
    _member(runner)
    wechat.send_text("楼道里堆满了纸箱和旧自行车，过不去人", openid=BOUND)
    clutter = cases_of(db, BOUND)[-1]
    wechat.send_text("家里厨房有很多蟑螂", openid="demo-resident-1")  # pest: not a kind the street chose
    run_once(app, utcnow())
    alerts = texts(standin, CAPTAIN)
    assert len(alerts) == 1 and clutter.number in alerts[0] and "楼道堆物" in alerts[0]
    assert f"已处理 {clutter.number}" in alerts[0]
    assert "马连道南口三区5号楼2单元" in alerts[0] and "1501" not in alerts[0]  # not which flat reported it

    photo = wechat.send_image(openid=CAPTAIN, media_id="site-1").text  # right after the alert: on that case
    assert photo is not None and clutter.number in photo
    note = wechat.send_text(f"{clutter.number} 纸箱已搬走一半，自行车是3楼的", openid=CAPTAIN).text
    assert note is not None and "现场情况已记在工单" in note
    fixed = wechat.send_text(f"已处理 {clutter.number}", openid=CAPTAIN).text
    assert fixed is not None and "睦邻坊确认问题已处理" in fixed
    trail = [(e.kind, e.actor, e.note) for e in events(db, clutter) if e.kind.startswith("group_")]
    assert trail == [("group_photo", "睦邻坊 赵大姐（楼门长）", None),
                     ("group_note", "睦邻坊 赵大姐（楼门长）", "纸箱已搬走一半，自行车是3楼的"),
                     ("group_fixed", "睦邻坊 赵大姐（楼门长）", "已处理")]
    db.expire_all()
    case = db.get(Case, clutter.id)
    assert case is not None and (case.status, case.satisfaction, case.solved) == ("open", None, None)  # a note only

    stranger = wechat.send_text(f"已处理 {clutter.number}", openid="demo-resident-2").text  # no member here
    assert stranger is None or "睦邻坊" not in stranger
    assert len([e for e in events(db, clutter) if e.kind == "group_fixed"]) == 1
    page = console.page(f"/console/cases/{clutter.number}")
    assert "睦邻坊确认已处理（非居民评价）" in page and "睦邻坊现场说明" in page and "睦邻坊现场照片" in page
    assert "http://mmbiz.example/site-1.jpg" in page  # the member's photo among the case's photos

    wechat.send_text("楼上邻居家漏水，我家顶棚一直滴水", openid="demo-resident-1")  # a neighbour's leak: told
    run_once(app, utcnow())
    assert len(texts(standin, CAPTAIN)) == 2 and cases_of(db, BOUND)[-1].number in texts(standin, CAPTAIN)[-1]


def test_a_photo_from_a_member_with_no_recent_alert_is_an_ordinary_photo(runner, wechat, db, app, street) -> None:  # type: ignore[no-untyped-def]
    _member(runner, openid=BOUND, building="6")  # BOUND lives in 5号楼 but is in 6号楼's group: no alert for 5
    wechat.send_text("楼道里堆满了纸箱", openid="demo-resident-2")
    reply = wechat.send_image(openid=BOUND, media_id="later").text
    assert reply is None or "现场照片" not in reply


def test_reporting_for_an_elderly_neighbour(console: Console, runner, wechat, db, app, standin) -> None:  # type: ignore[no-untyped-def]
    _member(runner)
    reply = wechat.send_text("帮3单元201的王奶奶报一下，她家厨房漏水", openid=CAPTAIN).text
    assert reply is not None and "已为王奶奶（马连道南口三区5号楼3单元201）代报工单" in reply
    (case,) = cases_of(db, CAPTAIN)
    assert (case.intent, case.building.name, case.unit, case.room) == ("leak", "5", "3", "201")  # type: ignore[union-attr]
    (behalf,) = events(db, case, "on_behalf")
    assert behalf.data == {"neighbour": "王奶奶", "reporter": "赵大姐", "role": "楼门长"}
    assert resident(db, CAPTAIN) is not None and resident(db, CAPTAIN).building_id is None  # type: ignore[union-attr]
    detail = wechat.send_text("水是从水管接口漏出来的", openid=CAPTAIN).text
    assert detail is not None and case.number in detail

    page = console.page(f"/console/cases/{case.number}")
    assert "睦邻坊代报" in page and "代王奶奶报（报告人：赵大姐，楼门长）" in page
    assert console.post(f"/console/cases/{case.number}/resolve", note="已更换水管接口").status_code == 302
    run_once(app, utcnow())
    assert any(case.number in t and "已更换水管接口" in t for t in texts(standin, CAPTAIN))
    run_once(app, utcnow() + timedelta(hours=25))  # the satisfaction follow-up goes to the member too
    assert any("满意" in t for t in texts(standin, CAPTAIN)[1:])

    other = wechat.send_text("帮3单元201的王奶奶报一下，她家厨房漏水", openid="demo-resident-2").text
    assert other is None or "代报" not in other  # not a member: an ordinary report of their own


def test_reporting_for_a_neighbour_in_another_building_of_the_compound(runner, wechat, db, street) -> None:  # type: ignore[no-untyped-def]
    _member(runner)
    reply = wechat.send_text("帮6号楼1单元302的李大爷报个修，他家暖气不热，他一个人住", openid=CAPTAIN).text
    assert reply is not None and "已为李大爷（马连道南口三区6号楼1单元302）代报工单" in reply
    (case,) = cases_of(db, CAPTAIN)
    assert (case.building.name, case.unit, case.room) == ("6", "1", "302")  # type: ignore[union-attr]
    assert case.care == "独居"  # the neighbour is someone to look after: the staff are told


def test_the_alert_settings_file_is_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.yaml"
    good.write_text("default: [clutter]\ncommunities: {茶马南街社区: [clutter, pest]}\nphoto_after_alert_minutes: 30\n",
                    encoding="utf-8")
    settings = load_settings(good)
    assert settings.kinds_for("茶马南街社区") == ("clutter", "pest") and settings.kinds_for("红莲社区") == ("clutter",)
    assert settings.photo_window == timedelta(minutes=30)
    bad = tmp_path / "bad.yaml"
    bad.write_text("default: clutter\n", encoding="utf-8")
    with pytest.raises(RoutingError, match="default must be a list"):
        load_settings(bad)


def test_a_report_waiting_for_the_address_is_kept_through_an_application(wechat, db, street) -> None:  # type: ignore[no-untyped-def]
    assert "地址" in (wechat.send_text("楼道里堆满了纸箱", openid="o-new").text or "")
    assert "住址" in (wechat.send_text("我想加入睦邻坊", openid="o-new").text or "")
    reply = wechat.send_text("马连道南口三区5号楼1单元101", openid="o-new").text
    (case,) = cases_of(db, "o-new")
    assert reply is not None and case.number in reply and "已收到您加入马连道南口三区5号楼睦邻坊的申请" in reply
    assert (case.intent, case.building.name, case.unit) == ("clutter", "5", "1")  # type: ignore[union-attr]
    assert _application(db, "o-new").status == "applied"


def test_no_usable_address_opens_the_waiting_report_and_files_no_application(wechat, db, street) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼道里堆满了纸箱", openid="o-new")
    wechat.send_text("我想加入睦邻坊", openid="o-new")
    assert "没能识别" in (wechat.send_text("火星路", openid="o-new").text or "")
    reply = wechat.send_text("不清楚", openid="o-new").text
    (case,) = cases_of(db, "o-new")
    assert reply is not None and case.number in reply and "申请还没有提交" in reply and case.building_id is None
    assert not db.scalars(select(MulinfangMember).where(MulinfangMember.openid == "o-new")).all()
