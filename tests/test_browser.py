"""End to end in real headless Chromium (Debian's, driven by Playwright): the console as staff use it.

The app is served on a local port in a thread; WeChat's API is the local stand-in and the
resident talks through the signed webhook. Screenshots go to tests/screenshots/ (git-ignored).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import make_server

from bot.clock import fmt_local, utcnow
from bot.domain import users
from bot.storage.models import Case, Notice
from scheduler import staff_alert_jobs
from scheduler.runner import run_once
from tests.helpers_console import report
from tests.helpers_intake import BOUND

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture
def server(app, street, db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app on a local port (threaded), with the demo street and the demo admin."""
    users.ensure_demo_admin(db, utcnow())
    db.commit()
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


@pytest.fixture
def page(server: str) -> Iterator[Page]:
    """A Chromium page that may reach only the local server."""
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(locale="zh-CN", base_url=server, viewport={"width": 1280, "height": 900})
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server)
                      else route.abort())
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def _as(page: Page, username: str, password: str) -> None:
    page.goto("/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("工单")


def _login(page: Page) -> None:
    """As the demo admin."""
    _as(page, "admin", "mulin-demo")


def test_case_from_report_to_satisfaction(page: Page, app, wechat, db, standin) -> None:
    case = report(wechat, db)
    page.goto("/console/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator(".flash.error")).to_contain_text("用户名或密码错误")
    _login(page)
    expect(page.locator(f'tr[data-number="{case.number}"]')).to_contain_text("漏水渗水")
    page.screenshot(path=str(SHOTS / "cases.png"), full_page=True)

    page.click(f"text={case.number}")
    expect(page.locator("#case-status")).to_have_text("待受理")
    page.click("#do-accept")
    expect(page.locator("#case-status")).to_have_text("处理中")
    page.fill("form:has(#do-resolve) textarea[name=note]", "已关闭楼上阀门并更换水管")
    page.click("#do-resolve")
    expect(page.locator("#case-status")).to_have_text("已办结")
    expect(page.locator("#audit")).to_contain_text("admin")
    page.screenshot(path=str(SHOTS / "case.png"), full_page=True)

    page.goto("/console/stats")
    expect(page.locator("#kpi-satisfaction")).to_have_text("—")
    db.expire_all()
    resolved_at = db.get(Case, case.id).resolved_at
    run_once(app, resolved_at + timedelta(hours=25))  # the follow-up is due a day after resolution
    assert BOUND in [s["openid"] for s in standin.sent() if "满意" in str(s["body"])]
    assert wechat.send_text("1", openid=BOUND).status == 200  # the resident answers 满意

    page.reload()
    expect(page.locator("#kpi-satisfaction")).to_have_text("100.0%")
    expect(page.locator("#kpi-received")).to_have_text("1")
    page.screenshot(path=str(SHOTS / "stats.png"), full_page=True)
    page.goto(f"/console/cases/{case.number}")
    expect(page.locator("#case-satisfaction")).to_contain_text("满意")


def test_notice_progress_and_simulator(page: Page, app, db, standin) -> None:
    _login(page)
    # 10:00 in Beijing three days ahead: the day-before send falls outside the quiet hours (21:00-08:00)
    cleanup = (utcnow() + timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    page.goto("/console/notices")
    page.select_option("select[name=compound]", "马连道南口三区")
    page.fill("input[name=buildings]", "5")
    page.fill("input[name=cleanup_at]", fmt_local(cleanup, "%Y-%m-%dT%H:%M"))
    page.fill("textarea[name=text]", "周六上午清理楼道，请把自行车和杂物搬回家")
    page.click("#new-notice button[type=submit]")
    expect(page.locator("#notice-status")).to_have_text("待发送")
    expect(page.locator("#progress .n-targeted")).to_have_text("1")
    expect(page.locator("#progress .n-sent")).to_have_text("0")
    expect(page.locator("#next-send")).to_contain_text("下次发送")
    expect(page.locator("#notice-edit")).to_be_visible()
    page.screenshot(path=str(SHOTS / "notice-before.png"), full_page=True)

    notice = db.query(Notice).one()
    run_once(app, notice.cleanup_at - timedelta(days=1))  # the day-before send is due
    # the page refreshes its progress itself, every 5 s: wait longer than one period
    expect(page.locator("#progress .n-sent")).to_have_text("1", timeout=12_000)
    expect(page.locator("#notice-status")).to_have_text("已发完")  # without reload, and the edit form is gone
    expect(page.locator("#notice-edit")).to_have_count(0)
    expect(page.locator('#rounds tr[data-offset="1440"] .r-sent')).to_have_text("1")
    expect(page.locator('#rounds tr[data-offset="10080"] .round-state')).to_contain_text("已跳过")
    page.reload()
    expect(page.locator("#notice-status")).to_have_text("已发完")
    page.screenshot(path=str(SHOTS / "notice-sent.png"), full_page=True)

    page.goto(f"/console/simulator?openid={BOUND}")
    chat = page.locator("#sim-chat")
    expect(chat).to_contain_text("周六上午清理楼道")  # the notice pushed to this resident
    replies = chat.locator("li.bot").count()
    page.fill("#sim-text", "楼道里堆满了纸箱，过不去人")
    page.click("#sim-send")
    expect(chat.locator("li.resident").last).to_contain_text("纸箱")
    expect(chat.locator("li.bot")).to_have_count(replies + 1)  # the webhook's reply
    db.expire_all()
    number = db.query(Case).filter(Case.openid == BOUND).one().number
    expect(chat.locator("li.bot").last).to_contain_text(number)
    page.screenshot(path=str(SHOTS / "simulator.png"), full_page=True)

    page.goto(f"/console/cases/{number}")
    page.fill("form:has(#do-reply) textarea[name=text]", "收到，明天上午物业来清理")
    page.click("#do-reply")
    run_once(app, utcnow())
    page.goto(f"/console/simulator?openid={BOUND}")
    expect(page.locator("#sim-chat li.push").last).to_contain_text("明天上午物业来清理")


PHONE = {"width": 390, "height": 844}


def _fits(page: Page) -> bool:
    """No horizontal scrolling: the page is no wider than the screen."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_console_on_a_phone(page: Page, wechat, db) -> None:
    case = report(wechat, db)
    wechat.send_text("水是从楼上卫生间顺着灯往下滴的，白天家里没人，晚上七点以后在家，来之前请先打电话", openid=BOUND)
    page.set_viewport_size(PHONE)
    _login(page)
    for path, name in (("/console/cases", "phone-cases"), (f"/console/cases/{case.number}", "phone-case"),
                       ("/console/stats", "phone-stats"), ("/console/notices", "phone-notices"),
                       ("/console/users", "phone-users"), ("/console/simulator", "phone-simulator")):
        page.goto(path)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        assert _fits(page), path
    page.goto(f"/console/cases/{case.number}")
    said = page.locator("#audit td", has_text="来之前请先打电话").bounding_box()  # the resident's words, whole
    assert said is not None and said["x"] >= 0 and said["x"] + said["width"] <= PHONE["width"]
    page.click("#do-accept")  # the actions are reachable in the one column
    expect(page.locator("#case-status")).to_have_text("处理中")


def test_a_new_critical_case_shows_in_the_header_without_reload(page: Page, wechat, db) -> None:
    _login(page)
    badge = page.locator("#live-critical")
    expect(badge).to_be_hidden()
    case = report(wechat, db, "家里闻到很浓的燃气味，煤气泄漏了")
    assert case.priority == "critical"
    expect(badge).to_be_visible(timeout=20_000)  # the badge polls every 15 s
    expect(badge.locator("b")).to_have_text("1")
    page.screenshot(path=str(SHOTS / "live-badge.png"))
    badge.click()
    expect(page.locator(f'tr[data-number="{case.number}"]')).to_be_visible()


def test_groups_consultations_and_projects_pages(page: Page, app, db, runner, wechat, standin) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers_outreach import street as outreach_street
    from tests.test_console_outreach import consultation, project

    outreach_street(db)  # 和平里 (和平社区), beside the demo street
    cid, pid = consultation(runner), project(runner)
    run_once(app, utcnow())
    wechat.send_text("1", openid="o-和平里-1-0")
    wechat.send_text("工地晚上十一点还在施工，太吵了睡不着", openid="o-和平里-2-1")
    assert runner.invoke(args=["mulinfang", "add", "--compound", "马连道南口三区", "--building", "5", "--openid",
                               "o-captain", "--name", "赵大姐", "--role", "楼门长", "--contact"]).exit_code == 0
    wechat.send_text("我也想当志愿者", openid=BOUND)
    _login(page)

    page.click("header nav >> text=睦邻坊")
    application = page.locator(f'form.application[data-openid="{BOUND}"]')
    expect(application).to_contain_text("马连道南口三区5号楼")
    page.screenshot(path=str(SHOTS / "mulinfang.png"), full_page=True)
    application.locator("input[name=name]").fill("张阿姨")
    application.locator("select[name=role]").select_option("老住户")
    application.locator("button[value=approve]").click()
    expect(page.locator(".flash.detail")).to_contain_text("已同意 张阿姨 加入马连道南口三区5号楼睦邻坊（老住户）")
    expect(page.locator("section.group")).to_contain_text("张阿姨")
    page.screenshot(path=str(SHOTS / "mulinfang-approved.png"), full_page=True)

    page.click("header nav >> text=征求意见")
    page.click(f'tr[data-id="{cid}"] a')
    expect(page.locator("#turnout")).to_have_text("1 / 4 户（25.0%）")
    expect(page.locator("#results")).to_contain_text("合计")
    page.screenshot(path=str(SHOTS / "consultation.png"), full_page=True)

    page.click("header nav >> text=整治项目")
    page.click(f'tr[data-id="{pid}"] a')
    expect(page.locator("#places")).to_have_text("和平里1号楼、和平里2号楼")
    expect(page.locator("#project-cases tbody tr")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "project.png"), full_page=True)

    page.set_viewport_size(PHONE)
    for path, name in (("/console/mulinfang", "phone-mulinfang"), ("/console/consultations", "phone-consultations"),
                       (f"/console/consultations/{cid}", "phone-consultation"), ("/console/projects", "phone-projects"),
                       (f"/console/projects/{pid}", "phone-project")):
        page.goto(path)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        assert _fits(page), path


def test_case_page_shows_the_kept_photo_and_plays_the_voice(page: Page, app, wechat, db, standin) -> None:
    case = report(wechat, db)
    assert wechat.send_image(openid=BOUND, media_id="photo-b").status == 200
    assert wechat.send("voice", {"MediaId": "voice-b", "Format": "amr"}, openid=BOUND).status == 200
    run_once(app)  # the scheduler downloads both through media/get (the stand-in's JPEG and AMR clip)
    _login(page)
    page.goto(f"/console/cases/{case.number}")
    expect(page.locator("#case-media img.case-photo")).to_be_visible()
    # the JPEG really loaded from the console (the stand-in's is 96×64), not a broken image
    page.wait_for_function("() => { const i = document.querySelector('#case-media img.case-photo');"
                           " return i.complete && i.naturalWidth === 96 && i.naturalHeight === 64; }")
    # the AMR clip, converted to MP3, is decoded by the browser: its 1.2 s duration is known, no error
    page.wait_for_function("() => { const a = document.querySelector('#case-media audio');"
                           " return a.readyState >= 1 && a.duration > 1 && a.duration < 2 && !a.error; }")
    page.screenshot(path=str(SHOTS / "case-media.png"), full_page=True)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_an_open_case_page_shows_new_messages_and_send_states_without_reload(
        page: Page, app, wechat, db, viewport: dict[str, int]) -> None:
    case = report(wechat, db)
    page.set_viewport_size(viewport)
    _login(page)
    page.goto(f"/console/cases/{case.number}")
    chat = page.locator("#chat")
    page.fill("form:has(#do-reply) textarea[name=text]", "收到，师傅下午两点上门")
    page.click("#do-reply")
    reply = chat.locator("li.staff").last
    expect(reply).to_contain_text("师傅下午两点上门")
    expect(reply.locator(".send-state")).to_have_text("待发送")
    assert wechat.send_text("水越滴越多了，地板都湿了", openid=BOUND).status == 200  # the resident writes again
    expect(chat.locator("li.resident").last).to_contain_text("地板都湿了", timeout=15_000)  # polled every 5 s
    run_once(app, utcnow())  # the scheduler sends the reply
    expect(reply.locator(".send-state")).to_have_text("已发送", timeout=15_000)
    name = "live-case-" + ("phone" if viewport == PHONE else "desktop")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if viewport == PHONE:
        assert _fits(page)


def test_a_staff_member_binds_their_wechat_and_gets_a_summary(page: Page, app, wechat, db, standin) -> None:
    users.create_user(db, username="wang", password="secret-pass-1", role="staff", now=utcnow(),
                      department="property", community="茶马南街社区")
    db.commit()
    page.goto("/console/login")
    page.fill("input[name=username]", "wang")
    page.fill("input[name=password]", "secret-pass-1")
    page.click("button[type=submit]")
    page.click("text=我的微信")
    expect(page.locator("#wechat-state")).to_have_text("未绑定")
    page.click("#new-code")
    code = page.locator("#bind-code").inner_text().split()[-1]
    expect(page.locator("#bind-qr")).to_be_visible()
    page.wait_for_function("() => document.getElementById('bind-qr').complete")  # a function: the CSP forbids eval
    assert page.evaluate("() => document.getElementById('bind-qr').naturalWidth") > 0  # the QR code loaded
    page.screenshot(path=str(SHOTS / "wechat-code.png"), full_page=True)
    reply = wechat.send_text(f"绑定 {code}", openid="o-wang-wechat")
    assert reply.text is not None and "绑定成功" in reply.text
    page.reload()
    expect(page.locator("#wechat-state")).to_have_text("已绑定")
    page.screenshot(path=str(SHOTS / "wechat-bound.png"), full_page=True)
    report(wechat, db)
    report(wechat, db, "楼道里堆满了纸箱，过不去人")
    staff_alert_jobs.run(app, datetime(2026, 12, 1, 4, 0))  # noon in Beijing: the summary is made
    run_once(app, utcnow())
    assert [s["openid"] for s in standin.sent()].count("o-wang-wechat") == 1


def test_case_page_plays_a_kept_video_and_the_group_page_marks_the_contact(page: Page, app, runner, wechat, db,  # type: ignore[no-untyped-def]
                                                                           standin) -> None:
    case = report(wechat, db, "楼道里堆满了纸箱和旧自行车，过不去人")
    assert wechat.send("video", {"MediaId": "video-b", "ThumbMediaId": "thumb-b"}, openid=BOUND).status == 200
    run_once(app)  # media/get answers the video's download URL; the scheduler keeps the MP4
    _login(page)
    page.goto(f"/console/cases/{case.number}")
    # the MP4 (1 s) is decoded by the browser: its duration is known, no error
    page.wait_for_function("() => { const v = document.querySelector('#case-media video.case-video');"
                           " return v && v.readyState >= 1 && v.duration > 0.5 && v.duration < 2 && !v.error; }")
    assert runner.invoke(args=["mulinfang", "add", "--compound", "马连道南口三区", "--building", "5", "--openid",
                               "o-captain", "--name", "赵大姐", "--role", "楼门长"]).exit_code == 0
    page.click("header nav >> text=睦邻坊")
    row = page.locator("section.group tr", has_text="赵大姐")
    row.locator("input[name=phone]").fill("13800001111")
    row.locator("text=设为联系人").click()
    expect(page.locator(".flash.detail")).to_contain_text("已设 赵大姐 为马连道南口三区5号楼睦邻坊的联系人")
    expect(page.locator("section.group tr", has_text="赵大姐")).to_contain_text("取消联系人")
    page.screenshot(path=str(SHOTS / "mulinfang-contact.png"), full_page=True)
    answer = wechat.send_text("睦邻坊是干什么的", openid=BOUND).text
    assert answer is not None and "睦邻坊联系人：赵大姐（楼门长），电话 13800001111" in answer


def _listed(page: Page) -> list[str]:
    return [n for n in page.locator("table.cases tbody tr").evaluate_all("rows => rows.map(r => r.dataset.number)")
            if n]


def _search(page: Page, q: str) -> list[str]:
    page.fill("input[name=q]", q)
    page.press("input[name=q]", "Enter")
    expect(page.locator("input[name=q]")).to_have_value(q)
    return _listed(page)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_a_clerks_day(page: Page, server: str, app, wechat, db, viewport: dict[str, int]) -> None:
    """The admin creates a clerk of 茶马南街社区; the clerk finds the 特急 case first, finds cases by name, phone
    tail and a word, and works one through: accept, internal note, reply, reassign, resolve; the page of a case
    a colleague accepts meanwhile updates without reload. Another community's case never shows."""
    leak = report(wechat, db)  # 张阿姨, 马连道南口三区 (茶马南街社区)
    gas = report(wechat, db, "家里闻到很浓的燃气味，煤气泄漏了，我一个人住，腿脚不好",  # 王女士 13800000004
                 openid="demo-resident-4")
    away = report(wechat, db, "厨房水管漏水了，地上全是水", openid="demo-resident-2")  # 天宁寺北里社区
    assert gas.priority == "critical" and leak.priority != "critical"
    page.set_viewport_size(viewport)
    size = "phone" if viewport == PHONE else "desktop"

    _as(page, "admin", "mulin-demo")
    page.goto("/console/users")
    page.fill("input[name=username]", "li")
    page.fill("input[name=password]", "secret-pass-1")
    expect(page.locator("select[name=role]")).to_have_value("staff")  # an admin is a deliberate choice
    page.select_option("select[name=community]", "茶马南街社区")
    page.click("form.stack button[type=submit]")
    expect(page.locator(".flash").first).to_contain_text("用户已创建")
    page.context.clear_cookies()

    _as(page, "li", "secret-pass-1")
    listed = _listed(page)
    assert listed[0] == gas.number and set(listed) == {gas.number, leak.number}  # 特急 first; not 天宁寺北里
    expect(page.locator("p.total")).to_contain_text("共 2 条")
    expect(page.locator(f'tr[data-number="{gas.number}"] .care-tag')).to_have_text("需关照")  # 独居、行动不便
    expect(page.locator(f'tr[data-number="{leak.number}"] .care-tag')).to_have_count(0)
    page.screenshot(path=str(SHOTS / f"day-queue-{size}.png"), full_page=True)
    assert _fits(page)
    assert _search(page, "张阿姨") == [leak.number]
    assert _search(page, "0004") == [gas.number]  # 王女士's phone, its last four digits
    assert _search(page, "天花板") == [leak.number]
    assert _search(page, "刘大爷") == []  # the other community's resident: not this clerk's
    page.screenshot(path=str(SHOTS / f"day-search-{size}.png"), full_page=True)

    _search(page, "张阿姨")
    page.click(f'tr[data-number="{leak.number}"] a')
    expect(page.locator("#case-status")).to_have_text("待受理")
    page.click("#do-accept")
    expect(page.locator("#case-status")).to_have_text("处理中")
    page.fill("form:has(#do-note) textarea[name=text]", "白天家里没人，晚上七点后上门")
    page.click("#do-note")
    expect(page.locator("#audit")).to_contain_text("白天家里没人")
    page.fill("form:has(#do-reply) textarea[name=text]", "收到，师傅今晚七点后上门")
    page.click("#do-reply")
    expect(page.locator("#chat li.staff").last).to_contain_text("师傅今晚七点后上门")
    page.select_option("form:has(#do-reassign) select[name=department]", "repair")
    page.fill("form:has(#do-reassign) input[name=note]", "楼内管线需抢修队")
    page.click("#do-reassign")  # still this clerk's: the community is theirs
    page.goto(f"/console/cases/{leak.number}")
    expect(page.locator("#case-department")).to_have_text("失管小区应急抢修队")
    page.fill("form:has(#do-resolve) textarea[name=note]", "已更换楼上水管")
    page.click("#do-resolve")
    expect(page.locator("#case-status")).to_have_text("已办结")
    expect(page.locator("#audit")).to_contain_text("li")
    page.screenshot(path=str(SHOTS / f"day-case-{size}.png"), full_page=True)
    assert _fits(page)
    page.goto(f"/console/cases/{away.number}")
    expect(page.locator("h1")).not_to_contain_text(away.number)  # 404 in the console's layout

    # the 特急 case open on the clerk's screen; a colleague (the admin, in another browser) accepts it
    page.goto(f"/console/cases/{gas.number}")
    expect(page.locator("#do-accept")).to_be_visible()
    browser = page.context.browser
    assert browser is not None
    other = browser.new_context(locale="zh-CN", base_url=server)
    colleague = other.new_page()
    _as(colleague, "admin", "mulin-demo")
    colleague.goto(f"/console/cases/{gas.number}")
    colleague.click("#do-accept")
    expect(colleague.locator("#case-status")).to_have_text("处理中")
    other.close()
    expect(page.locator("#case-status")).to_have_text("处理中", timeout=15_000)  # polled every 5 s
    expect(page.locator("#do-accept")).to_have_count(0)
    expect(page.locator("#do-resolve")).to_be_visible()
    expect(page.locator("#case-changed")).to_be_visible()
    expect(page.locator("#audit")).to_contain_text("admin")
    page.screenshot(path=str(SHOTS / f"day-live-{size}.png"), full_page=True)
    assert _fits(page)


def test_a_case_page_says_so_when_a_colleague_reassigns_the_case_away(page: Page, app, wechat, db) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers_console import Console

    case = report(wechat, db)
    users.create_user(db, username="wang", password="secret-pass-1", role="staff", now=utcnow(),
                      department="property", community="茶马南街社区")
    db.commit()
    page.set_viewport_size(PHONE)
    _as(page, "wang", "secret-pass-1")
    page.goto(f"/console/cases/{case.number}")
    expect(page.locator("#case-gone")).to_be_hidden()
    admin = Console(app.test_client())  # a colleague at the street office
    assert admin.login().status_code == 302
    assert admin.post(f"/console/cases/{case.number}/reassign", department="grid").status_code == 302
    expect(page.locator("#case-gone")).to_be_visible(timeout=15_000)  # polled every 5 s
    expect(page.locator("#do-accept")).to_be_disabled()
    page.screenshot(path=str(SHOTS / "case-gone-phone.png"), full_page=True)
    assert _fits(page)
