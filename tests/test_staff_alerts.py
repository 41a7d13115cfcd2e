"""Staff bind their WeChat from the console ("绑定 123456") and get alerts that help instead of flood:
特急 at once, the rest summarised per recipient at most every STAFF_ALERT_MINUTES, nothing but 特急 in quiet
hours, and cleanup notices created at night sent at the next allowed hour."""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select

from bot.clock import utcnow
from bot.config import DEFAULTS
from bot.domain import notices, staff_binding, users
from bot.storage.models import Building, Compound, Outbox, Resident, Staff, User
from scheduler import staff_alert_jobs
from scheduler.jobs import drain_outbox
from scheduler.runner import run_once
from tests.helpers_console import Console, add_user
from tests.helpers_intake import cases_of
from tests.helpers_outreach import received, street

NOON = datetime(2026, 12, 1, 4, 0)  # 12:00 in Beijing
WANG = "o-wang-wechat"


def _code(console: Console) -> str:
    console.post("/console/me/wechat/code")
    match = re.search(r'id="bind-code">绑定 (\d{6})<', console.page("/console/me/wechat"))
    assert match
    return match.group(1)


def _bind(client, wechat, db, username: str = "wang", openid: str = WANG, department: str = "property") -> None:  # type: ignore[no-untyped-def]
    add_user(db, username, department=department, community="茶马南街社区")
    console = Console(client)
    assert console.login(username, "secret-pass-1").status_code == 302
    assert "未绑定" in console.page("/console/me/wechat")
    reply = wechat.send_text(f"绑定 {_code(console)}", openid=openid)
    assert reply.text is not None and "绑定成功" in reply.text
    assert ("物业" if department == "property" else "网格员") in reply.text
    assert "已绑定" in console.page("/console/me/wechat")


def _texts(standin, openid: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [json.dumps(r["body"], ensure_ascii=False) for r in standin.sent() if r["openid"] == openid]


def _residents(db, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """n residents of 马连道南口三区 (demo street, 茶马南街社区, managed), spread over its buildings."""
    compound = db.scalars(select(Compound).where(Compound.name == "马连道南口三区")).one()
    buildings = db.scalars(select(Building).where(Building.compound_id == compound.id)).all()
    rows = [{"openid": f"o-burst-{i}", "compound_id": compound.id, "building_id": buildings[i % len(buildings)].id,
             "unit": "1", "room": f"{100 + i}", "subscribed": True, "created_at": utcnow()} for i in range(n)]
    db.execute(insert(Resident), rows)
    db.commit()
    return [r["openid"] for r in rows]


def test_binding_links_the_wechat_and_is_audited(app, client, wechat, street, db, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="bot.domain.staff_binding"):
        _bind(client, wechat, db)
    user = db.scalars(select(User).where(User.username == "wang")).one()
    [row] = db.scalars(select(Staff).where(Staff.user_id == user.id)).all()
    assert (row.openid, row.department, row.community_id) == (WANG, "property", user.community_id)
    assert user.bind_code is None  # one-time
    assert any("'wang' bound a WeChat account" in r.getMessage() for r in caplog.records)
    assert not any(WANG in r.getMessage() for r in caplog.records)  # no openid in the log
    users.ensure_demo_admin(db, utcnow())
    db.commit()
    admin = Console(client)
    assert admin.login().status_code == 302
    row_html = admin.page("/console/users").split("<td>wang</td>")[1].split("</tr>")[0]
    assert '<td class="wechat">已绑定</td>' in row_html
    # an admin moves the user to another department: the bound WeChat follows
    users.edit_user(db, user, role="staff", department="grid", community="茶马南街社区")
    db.commit()
    assert db.scalars(select(Staff.department).where(Staff.user_id == user.id)).all() == ["grid"]
    users.set_disabled(user, True)
    db.commit()
    assert db.scalars(select(Staff).where(Staff.user_id == user.id)).all() == []


def test_wrong_expired_and_too_many_codes_get_a_polite_answer(app, client, wechat, street, db) -> None:  # type: ignore[no-untyped-def]
    add_user(db, "li", department="grid")
    user = db.scalars(select(User).where(User.username == "li")).one()
    code = staff_binding.issue_code(db, user, utcnow() - timedelta(minutes=30), 10)
    db.commit()
    assert "已经过期" in (wechat.send_text(f"绑定 {code}", openid="o-li").text or "")
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    assert "没有找到这个绑定码" in (wechat.send_text(f"绑定：{wrong}", openid="o-li").text or "")
    assert "没有找到这个绑定码" in (wechat.send_text("绑定", openid="o-li").text or "")
    for _ in range(3):
        wechat.send_text(f"绑定 {wrong}", openid="o-li")
    code = staff_binding.issue_code(db, user, utcnow(), 10)
    db.commit()
    assert "尝试次数太多" in (wechat.send_text(f"绑定 {code}", openid="o-li").text or "")
    assert db.scalars(select(Staff).where(Staff.openid == "o-li")).all() == []
    assert not cases_of(db, "o-li")  # a binding message is no report


def test_a_burst_gives_each_bound_staff_member_one_summary(app, client, wechat, street, db, standin) -> None:  # type: ignore[no-untyped-def]
    app.config["PUBLIC_BASE_URL"] = "https://mulin.example.gov.cn"
    _bind(client, wechat, db)
    _bind(client, wechat, db, username="zhao", openid="o-zhao-wechat", department="grid")
    for openid in _residents(db, 30):
        assert wechat.send_text("楼上漏水了，顶棚一直滴水", openid=openid).status == 200
    drain_outbox(app, utcnow())
    assert not _texts(standin, WANG)  # nothing yet: held for the summary
    assert staff_alert_jobs.run(app, NOON)["summaries"] >= 2
    drain_outbox(app, utcnow())
    counts = received(standin)
    assert counts[WANG] == 1 and counts["o-zhao-wechat"] == 1 and counts["demo-staff-property-1"] == 1
    [summary] = _texts(standin, WANG)
    assert "30 条工单提醒" in summary and "新工单30" in summary and "最急" in summary
    assert "https://mulin.example.gov.cn/console/cases?status=active" in summary
    assert staff_alert_jobs.run(app, NOON + timedelta(minutes=10))["summaries"] == 0  # nothing new, nothing sent
    # one new case later goes as itself, with the link to its case page
    [resident] = _residents_more(db)
    wechat.send_text("楼上漏水了", openid=resident)
    later = NOON + timedelta(minutes=12)
    assert staff_alert_jobs.run(app, later)["summaries"] >= 1  # the last summary is 12 minutes old
    drain_outbox(app, utcnow())
    [case] = cases_of(db, resident)
    mine = _texts(standin, WANG)
    assert len(mine) == 2 and case.number in mine[1] and f"/console/cases/{case.number}" in mine[1]


def _residents_more(db) -> list[str]:  # type: ignore[no-untyped-def]
    compound = db.scalars(select(Compound).where(Compound.name == "马连道南口三区")).one()
    building = db.scalars(select(Building).where(Building.compound_id == compound.id)).first()
    db.add(Resident(openid="o-late", compound_id=compound.id, building_id=building.id, unit="2", room="901",
                    subscribed=True, created_at=utcnow()))
    db.commit()
    return ["o-late"]


def test_summaries_keep_their_gap(app, client, wechat, street, db) -> None:  # type: ignore[no-untyped-def]
    _bind(client, wechat, db)
    first, second = _residents(db, 2)
    wechat.send_text("楼上漏水了", openid=first)
    assert staff_alert_jobs.run(app, NOON)["summaries"] >= 1
    wechat.send_text("楼上漏水了", openid=second)
    assert staff_alert_jobs.run(app, NOON + timedelta(minutes=2))["summaries"] == 0
    assert staff_alert_jobs.run(app, NOON + timedelta(minutes=5))["summaries"] >= 1
    rows = db.scalars(select(Outbox).where(Outbox.openid == WANG, Outbox.key.like("staff-summary:%"))).all()
    assert len(rows) == 2


def test_critical_alerts_at_once_even_in_quiet_hours(app, client, wechat, street, db, standin) -> None:  # type: ignore[no-untyped-def]
    app.config["QUIET_HOURS"] = "00:00-23:59"  # quiet all day: a 特急 alert still goes
    _bind(client, wechat, db)
    [resident] = _residents(db, 1)
    wechat.send_text("楼道里有很浓的燃气味", openid=resident)
    [case] = cases_of(db, resident)
    assert case.priority == "critical"
    drain_outbox(app, utcnow())  # no summary job: the alert is not held
    [alert] = _texts(standin, WANG)
    assert case.number in alert


def test_quiet_hours_hold_summaries_until_morning(app, client, wechat, street, db, standin) -> None:  # type: ignore[no-untyped-def]
    app.config["QUIET_HOURS"] = DEFAULTS["QUIET_HOURS"]  # 21:00-08:00
    _bind(client, wechat, db)
    for openid in _residents(db, 3):
        wechat.send_text("楼上漏水了", openid=openid)
    night = datetime(2026, 12, 1, 14, 30)  # 22:30 in Beijing
    assert staff_alert_jobs.run(app, night)["summaries"] == 0
    assert staff_alert_jobs.run(app, datetime(2026, 12, 1, 23, 59))["summaries"] == 0  # 07:59
    assert staff_alert_jobs.run(app, datetime(2026, 12, 2, 0, 0))["summaries"] >= 1  # 08:00
    drain_outbox(app, utcnow())
    [summary] = _texts(standin, WANG)
    assert "3 条工单提醒" in summary
    app.config["QUIET_HOURS"] = ""  # configurable: none at all
    wechat.send_text("楼上漏水了", openid=_residents_more(db)[0])
    assert staff_alert_jobs.run(app, night + timedelta(days=1))["summaries"] >= 1


@pytest.mark.parametrize("created_local_hour, first_send_hour", [(23, 8), (6, 8), (15, 15)])
def test_a_notice_created_inside_the_week_waits_for_the_next_allowed_hour(
        app, db, standin, created_local_hour: int, first_send_hour: int) -> None:  # type: ignore[no-untyped-def]
    app.config["QUIET_HOURS"] = DEFAULTS["QUIET_HOURS"]  # 21:00-08:00
    street(db, buildings=("1",), residents_per_building=1)
    day = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=30)  # 08:00 Beijing
    created = day + timedelta(hours=created_local_hour - 8)
    notices.create_notice(db, compound="和平里", community=None, buildings=None, cleanup_at=day + timedelta(days=3),
                          text="请清理楼道", actor="test", now=created)
    db.commit()
    for hour in range(created_local_hour, created_local_hour + 24):
        run_once(app, day + timedelta(hours=hour - 8))
        if received(standin):
            assert hour % 24 == first_send_hour
            break
    assert received(standin)["o-和平里-1-0"] == 1


@pytest.mark.parametrize("value", ["21点到8点", "25:00-08:00", "21:00"])
def test_a_bad_quiet_hours_setting_stops_start_up_with_one_line(settings, value: str) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app

    with pytest.raises(SystemExit, match="QUIET_HOURS"):
        create_app({**settings, "QUIET_HOURS": value})


@pytest.mark.parametrize("event, key", [("subscribe", "qrscene_bind:{code}"), ("SCAN", "bind:{code}")])
def test_scanning_the_console_qr_code_binds(app, client, wechat, street, db, standin, event: str, key: str) -> None:  # type: ignore[no-untyped-def]
    add_user(db, "qian", department="property", community="茶马南街社区")
    console = Console(client)
    assert console.login("qian", "secret-pass-1").status_code == 302
    code = _code(console)
    assert 'id="bind-qr"' in console.page("/console/me/wechat")
    png = console.client.get("/console/me/wechat/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    again = console.client.get("/console/me/wechat/qr.png")
    assert again.status_code == 200
    [created] = standin.requests_to("qrcode/create")  # the reload reused the ticket
    assert created["body"]["action_name"] == "QR_STR_SCENE"
    assert created["body"]["action_info"]["scene"]["scene_str"] == f"bind:{code}"
    reply = wechat.event(event, openid="o-qian", EventKey=key.format(code=code), Ticket="gQ1")
    assert reply.text is not None and "绑定成功" in reply.text
    user = db.scalars(select(User).where(User.username == "qian")).one()
    assert db.scalars(select(Staff.openid).where(Staff.user_id == user.id)).all() == ["o-qian"]
    assert console.client.get("/console/me/wechat/qr.png").status_code == 404  # the code is used up
