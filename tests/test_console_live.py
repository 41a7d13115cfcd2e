"""What open console pages poll: a case's conversation and send states (live.json), a notice's rounds and next
send time; staff see only what they may."""
from __future__ import annotations

from datetime import timedelta

from bot.clock import to_local, utcnow
from bot.domain import notices
from scheduler.jobs import drain_outbox
from tests.helpers_console import Console, add_user, report
from tests.helpers_intake import BOUND


def test_case_live_json_brings_new_messages_and_send_states(console: Console, app, wechat, db) -> None:  # type: ignore[no-untyped-def]
    case = report(wechat, db)
    path = f"/console/cases/{case.number}/live.json"
    first = console.client.get(path).get_json()
    assert first["status_label"] == "待受理" and "天花板一直在滴水" in first["chat"]
    console.post(f"/console/cases/{case.number}/reply", text="师傅下午到")
    wechat.send_text("现在滴得更厉害了", openid=BOUND)
    data = console.client.get(path).get_json()
    assert data["lines"] > first["lines"] and "现在滴得更厉害了" in data["chat"]
    assert "师傅下午到" in data["chat"] and "待发送" in data["chat"]
    drain_outbox(app, utcnow())
    assert "已发送" in console.client.get(path).get_json()["chat"]


def test_case_live_json_is_scoped_like_the_case_page(app, client, wechat, street, db) -> None:  # type: ignore[no-untyped-def]
    case = report(wechat, db)
    add_user(db, "other", department="property", community="红莲社区")
    other = Console(client)
    assert other.login("other", "secret-pass-1").status_code == 302
    assert other.client.get(f"/console/cases/{case.number}/live.json").status_code == 404


def test_notice_page_shows_rounds_and_the_next_allowed_send_time(console: Console, app, db) -> None:  # type: ignore[no-untyped-def]
    # created inside the week: its 7-day round is due now, unless it is quiet now
    cleanup = (utcnow() + timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)  # 10:00
    notice = notices.create_notice(db, compound="马连道南口三区", community=None, buildings=["5"],
                                   cleanup_at=cleanup, text="请清理楼道", actor="admin", now=utcnow())
    db.commit()
    html = console.page(f"/console/notices/{notice.id}")
    assert 'id="rounds"' in html and "清理前7天" in html and "清理前1天" in html and "下次发送" in html
    assert 'id="notice-edit"' in html and "待发送" in html
    hour = to_local(utcnow()).hour
    app.config["QUIET_HOURS"] = f"{(hour - 1) % 24:02d}:00-{(hour + 2) % 24:02d}:00"  # quiet for two more hours
    html = console.page(f"/console/notices/{notice.id}")
    assert f"{(hour + 2) % 24:02d}:00" in html.split('id="next-send"')[1].split("</p>")[0]


def test_a_round_shows_its_failures_with_the_reason(console: Console, app, db, standin) -> None:  # type: ignore[no-untyped-def]
    from scheduler.runner import run_once

    cleanup = (utcnow() + timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)  # 10:00
    notice = notices.create_notice(db, compound="马连道南口三区", community=None, buildings=["5"],
                                   cleanup_at=cleanup, text="请清理楼道", actor="admin", now=utcnow())
    db.commit()
    standin.fail(40003, openid=BOUND, times=10)  # WeChat: not a valid openid (permanent)
    run_once(app, cleanup - timedelta(days=1))
    html = console.page(f"/console/notices/{notice.id}")
    row = html.split('data-offset="1440"')[1].split("</tr>")[0]
    assert '<td class="r-sent">0</td>' in row and "40003" in row and "1人" in row


def test_case_live_json_brings_the_panel_when_another_clerk_acts(console: Console, app, client, wechat, db) -> None:  # type: ignore[no-untyped-def]
    """Two clerks on one case: when one accepts, the other's page learns the new state, the 办理 panel the
    status now allows (办结 instead of 受理) and the audit trail; when one reassigns, the department."""
    case = report(wechat, db)
    path = f"/console/cases/{case.number}/live.json"
    add_user(db, "colleague", department="property", community="茶马南街社区")
    colleague = Console(app.test_client())
    assert colleague.login("colleague", "secret-pass-1").status_code == 302
    before = colleague.client.get(path).get_json()
    assert before["state"] == "open:property" and 'id="do-accept"' in before["actions"]
    console.post(f"/console/cases/{case.number}/accept", do="accept")
    after = colleague.client.get(path).get_json()
    assert after["state"] == "in_progress:property" and after["status_label"] == "处理中"
    assert 'id="do-resolve"' in after["actions"] and 'id="do-accept"' not in after["actions"]
    assert "受理" in after["events"] and "admin" in after["events"]
    assert 'name="csrf_token"' in after["actions"]  # the new panel's forms can be sent
    console.post(f"/console/cases/{case.number}/reassign", department="community", note="不是物业的事")
    moved = console.client.get(path).get_json()
    assert moved["state"] == "in_progress:community" and moved["department_label"] == "社区居委会"
    assert "不是物业的事" in moved["events"]
