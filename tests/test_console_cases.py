"""Cases in the console: the list and its filters, the case page, actions in the audit trail, access."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.services import services
from bot.storage.models import Case, CaseEvent, Outbox
from tests.helpers_console import Console, add_user, report
from tests.helpers_intake import BOUND

OTHER = "demo-resident-2"  # 天宁寺北里 (another community)




def _events(db, case: Case) -> list[CaseEvent]:
    db.expire_all()
    return list(db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def test_case_from_the_webhook_is_listed_with_a_masked_phone(console: Console, wechat, db) -> None:
    case = report(wechat, db)
    html = console.page("/console/cases")
    assert case.number in html
    assert "138****0001" in html and "13800000001" not in html
    page = console.page(f"/console/cases/{case.number}")
    assert "天花板一直在滴水" in page  # the resident's message in the conversation
    assert case.number in page and "办理记录" in page


def test_search_by_number_opens_the_case(console: Console, wechat, db) -> None:
    case = report(wechat, db)
    res = console.client.get(f"/console/cases?q={case.number}")
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/console/cases/{case.number}")


def test_photos_appear_on_the_case_page(console: Console, wechat, db) -> None:
    case = report(wechat, db)
    wechat.send_image(openid=BOUND, media_id="leak-photo")
    page = console.page(f"/console/cases/{case.number}")
    assert "照片 1" in page and "leak-photo.jpg" in page


@pytest.mark.parametrize("query, listed", [
    ("status=open", True), ("status=resolved", False), ("intent=leak", True), ("intent=pest", False),
    ("overdue=1", True), ("reopened=1", False),
])
def test_filters(console: Console, wechat, db, query: str, listed: bool) -> None:
    case = report(wechat, db)
    case.due_at = case.created_at - timedelta(minutes=1)  # overdue
    db.commit()
    assert (case.number in console.page(f"/console/cases?{query}")) is listed


def test_overdue_and_critical_cases_stand_out(console: Console, wechat, db) -> None:
    case = report(wechat, db)
    case.due_at, case.priority = case.created_at - timedelta(hours=1), "critical"
    db.commit()
    html = console.page("/console/cases")
    row = html[html.index(f'data-number="{case.number}"') - 60:html.index(f'data-number="{case.number}"')]
    assert "overdue" in row and "critical" in row
    assert "超时" in html


def test_accept_resolve_reopen_are_audited_with_the_users_name(console: Console, wechat, db) -> None:
    case = report(wechat, db)
    base = f"/console/cases/{case.number}"
    assert console.post(f"{base}/accept").status_code == 302
    assert console.post(f"{base}/resolve", note="已更换楼上水管").status_code == 302
    assert console.post(f"{base}/reopen", note="又漏了").status_code == 302
    trail = [(e.kind, e.actor, e.note) for e in _events(db, case)][1:]
    assert trail == [("accept", "admin", None), ("resolve", "admin", "已更换楼上水管"), ("reopen", "admin", "又漏了")]
    db.refresh(case)
    assert case.status == "open" and case.reopen_count == 1 and case.first_response_at is not None
    assert "已更换楼上水管" in console.page(base)


def test_invalid_transition_is_refused_politely(console: Console, wechat, db) -> None:
    case = report(wechat, db)
    res = console.post(f"/console/cases/{case.number}/reopen")
    assert res.status_code == 302
    assert "不能执行该操作" in console.page(f"/console/cases/{case.number}")
    db.refresh(case)
    assert case.status == "open"


def test_reply_goes_through_the_outbox(console: Console, wechat, db) -> None:
    case = report(wechat, db)
    assert console.post(f"/console/cases/{case.number}/reply", text="师傅下午三点上门").status_code == 302
    db.expire_all()
    rows = db.scalars(select(Outbox).where(Outbox.purpose == "reply", Outbox.case_id == case.id)).all()
    assert [r.payload["text"] for r in rows] == ["师傅下午三点上门"]
    assert [(e.kind, e.actor) for e in _events(db, case)][-1] == ("reply", "admin")
    assert console.post(f"/console/cases/{case.number}/reply", text="  ").status_code == 302
    assert len(db.scalars(select(Outbox).where(Outbox.purpose == "reply")).all()) == 1


def test_reassign(console: Console, wechat, db) -> None:
    case = report(wechat, db)
    assert console.post(f"/console/cases/{case.number}/reassign", department="grid", note="邻里纠纷").status_code == 302
    db.refresh(case)
    assert case.department == "grid"
    event = _events(db, case)[-1]
    assert (event.kind, event.actor, event.data) == ("reassign", "admin", {"from": "property", "to": "grid"})


@pytest.mark.parametrize("department, community, sees", [
    ("property", "茶马南街社区", True),
    ("property", "天宁寺北里社区", False),  # another community
    ("grid", "茶马南街社区", False),  # another department
])
def test_staff_see_only_their_department_and_community(client, street, wechat, db, department: str,
                                                       community: str, sees: bool) -> None:
    case = report(wechat, db)
    add_user(db, "staff1", department=department, community=community)
    console = Console(client)
    assert console.login("staff1", "secret-pass-1").status_code == 302
    assert (case.number in console.page("/console/cases")) is sees
    assert client.get(f"/console/cases/{case.number}").status_code == (200 if sees else 404)
    res = console.post(f"/console/cases/{case.number}/accept")
    assert res.status_code == (302 if sees else 404)
    db.refresh(case)
    assert (case.status == "in_progress") is sees


@pytest.mark.parametrize("hours_since_last_message, channel, hint", [
    (1, "custom", "客服消息"),
    (72, "template", "模板消息"),
])
def test_reply_respects_the_48_hour_window(console: Console, app, wechat, db, standin,
                                           hours_since_last_message: int, channel: str, hint: str) -> None:
    from bot.clock import utcnow
    from bot.storage.models import Resident
    from scheduler.runner import run_once

    case = report(wechat, db)
    resident = db.scalars(select(Resident).where(Resident.openid == BOUND)).one()
    resident.last_inbound_at = utcnow() - timedelta(hours=hours_since_last_message)
    db.commit()
    assert hint in console.page(f"/console/cases/{case.number}")
    console.post(f"/console/cases/{case.number}/reply", text="师傅下午三点上门")
    run_once(app, utcnow())
    assert "师傅下午三点上门" in str([s["body"] for s in standin.sent(channel) if s["openid"] == BOUND])


def test_linked_reports_from_the_same_building_are_shown(console: Console, wechat, db) -> None:
    from bot.clock import utcnow
    from bot.domain import cases
    from bot.storage.models import Resident

    first = report(wechat, db)
    mine = db.scalars(select(Resident).where(Resident.openid == BOUND)).one()
    neighbour = Resident(openid="o-neighbour", compound_id=mine.compound_id, building_id=mine.building_id,
                         unit="2", room="1401", subscribed=True, created_at=utcnow())
    db.add(neighbour)
    db.flush()
    second = cases.create_case(db, openid="o-neighbour", text="楼上往下渗水", intent="leak", priority="normal",
                               also=(), resident=neighbour, now=utcnow())
    db.commit()
    assert second.group_id is not None
    page = console.page(f"/console/cases/{first.number}")
    assert "关联工单" in page and second.number in page


def test_messages_waiting_for_the_scheduler_are_flagged(console: Console, settings, db) -> None:  # type: ignore[no-untyped-def]
    """A burst queued while no scheduler runs: staff see it on every page once it has waited two minutes."""
    from bot import create_app
    from bot.storage.models import InboundMessage
    from tests.conftest import AES_KEY, APPID, TOKEN
    from tests.wechat import WeChat
    busy = create_app({**settings, "INLINE_BUSY_LIMIT": 0.0})
    WeChat(busy.test_client(), TOKEN, APPID, AES_KEY).send_text("楼道里堆满了杂物", openid=OTHER)
    assert "等待答复" not in console.page("/console/cases")  # just queued: the scheduler answers within seconds
    db.execute(__import__("sqlalchemy").update(InboundMessage).values(
        received_at=InboundMessage.received_at - timedelta(minutes=3)))
    db.commit()
    assert "有 1 条居民消息已等待答复超过2分钟" in console.page("/console/notices")
    services(busy).engine.dispose()


LEAK = "我家楼上漏水了，天花板一直在滴水"
CONSTRUCTION = "楼下有人违建，私搭乱建盖了一间房，我电话13912345678"


@pytest.mark.parametrize("order", ["leak first", "construction first"])
def test_the_case_page_shows_only_the_cases_own_conversation(client, street, wechat, db, order: str) -> None:
    texts = [LEAK, CONSTRUCTION] if order == "leak first" else [CONSTRUCTION, LEAK]
    for text in texts:
        report(wechat, db, text)
    wechat.send_text("已经盖到二楼了", openid=BOUND)  # more words about the latest case
    leak = db.scalars(select(Case).where(Case.intent == "leak")).one()
    construction = db.scalars(select(Case).where(Case.intent == "construction")).one()
    assert construction.department == "enforcement"
    add_user(db, "wuye", department="property", community="茶马南街社区")
    console = Console(client)
    console.login("wuye", "secret-pass-1")
    assert client.get(f"/console/cases/{construction.number}").status_code == 404
    page = console.page(f"/console/cases/{leak.number}")
    assert "天花板一直在滴水" in page
    assert "违建" not in page and "13912345678" not in page and construction.number not in page
    if order == "leak first":
        assert "盖到二楼" not in page


def test_the_dialogue_that_led_to_the_case_is_shown(console: Console, wechat, db) -> None:
    wechat.send_text("楼上漏水，天花板在滴水", openid="o-new")  # no address yet: the bot asks for it
    wechat.send_text("马连道南口三区5号楼2单元1501", openid="o-new")
    [case] = db.scalars(select(Case).where(Case.openid == "o-new")).all()
    page = console.page(f"/console/cases/{case.number}")
    assert "天花板在滴水" in page and "1501" in page


def _cases(db, n: int, **fields) -> list[Case]:  # type: ignore[no-untyped-def]
    """n cases of the bound resident straight from the domain (the webhook's path is tested above)."""
    from bot.clock import utcnow
    from bot.domain.cases import create_case
    from tests.helpers_intake import resident

    person, made = resident(db, BOUND), []
    for i in range(n):
        case = create_case(db, openid=BOUND, text=fields.get("text", f"第{i}号漏水报告"), intent="leak",
                           priority=fields.get("priority", "normal"), also=(), resident=person,
                           now=utcnow() - timedelta(minutes=n - i))
        made.append(case)
    db.commit()
    return made


def _numbers(html: str) -> list[str]:
    import re
    return re.findall(r'data-number="([^"]+)"', html)


def test_the_list_pages_with_a_total(console: Console, db) -> None:
    from bot.web.console.case_list import PAGE_SIZE

    made = _cases(db, PAGE_SIZE + 5)
    first = console.page("/console/cases")
    assert f"共 {PAGE_SIZE + 5} 条" in first and "下一页" in first
    assert _numbers(first)[0] == made[-1].number and len(_numbers(first)) == PAGE_SIZE
    second = console.page("/console/cases?page=2")
    assert _numbers(second) == [c.number for c in reversed(made[:5])] and "上一页" in second
    assert not set(_numbers(first)) & set(_numbers(second))


def test_the_most_overdue_case_comes_first(console: Console, db) -> None:
    from bot.clock import utcnow

    made = _cases(db, 3)
    for hours, case in zip((5, 50, 20), made, strict=True):
        case.due_at = utcnow() - timedelta(hours=hours)
    db.commit()
    assert _numbers(console.page("/console/cases?overdue=1")) == [made[1].number, made[2].number, made[0].number]


def test_sort_by_priority_puts_critical_first(console: Console, db) -> None:
    normal = _cases(db, 2)
    [critical] = _cases(db, 1, priority="critical")
    listed = _numbers(console.page("/console/cases?sort=priority"))
    assert listed[0] == critical.number and set(listed[1:]) == {c.number for c in normal}


@pytest.mark.parametrize("query, listed", [
    ("priority=critical", True), ("priority=normal", False), ("department=property", True),
    ("department=grid", False), ("handoff=1", False), ("start=2000-01-01", True), ("end=2000-01-01", False),
    ("start=2000-01-01&end=2999-12-31", True), ("start=not-a-date", True),
])
def test_more_filters(console: Console, db, query: str, listed: bool) -> None:
    [case] = _cases(db, 1, priority="critical")
    assert (case.number in _numbers(console.page(f"/console/cases?{query}"))) is listed


def test_handoff_cases_are_marked_and_filtered(console: Console, wechat, db) -> None:
    case = report(wechat, db)
    wechat.send_text("人工", openid=BOUND)
    db.refresh(case)
    assert case.handoff
    html = console.page("/console/cases?handoff=1")
    assert _numbers(html) == [case.number] and "人工</span>" in html
    assert "天花板一直在滴水" in html  # the start of the complaint


@pytest.mark.parametrize("q", ["张阿姨", "0001", "13800000001", "天花板", "马连道南口三区", "5号楼",
                               "马连道南口三区5号楼"])
def test_search_finds_what_a_clerk_remembers(console: Console, wechat, db, q: str) -> None:
    case = report(wechat, db)
    other = report(wechat, db, "楼道里有好多蟑螂，麻烦来消杀", openid="demo-resident-2")
    listed = _numbers(console.page(f"/console/cases?q={q}"))
    assert case.number in listed and other.number not in listed


def test_a_number_without_its_dash_opens_the_case(console: Console, wechat, db) -> None:
    case = report(wechat, db)
    res = console.client.get(f"/console/cases?q={case.number.replace('-', '')}")
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/console/cases/{case.number}")


def test_a_search_never_opens_a_case_out_of_scope(client, street, wechat, db) -> None:
    case = report(wechat, db)
    add_user(db, "grid1", department="grid", community="茶马南街社区")
    console = Console(client)
    console.login("grid1", "secret-pass-1")
    res = client.get(f"/console/cases?q={case.number}")
    assert res.status_code == 200 and case.number not in _numbers(res.get_data(as_text=True))


def test_each_answer_once_and_staff_replies_named(console: Console, settings, db) -> None:  # type: ignore[no-untyped-def]
    """After a burst the scheduler answers late: that answer shows once, as Mulin's, not as a staff reply."""
    from bot import create_app
    from bot.clock import utcnow
    from scheduler.runner import run_once
    from tests.conftest import AES_KEY, APPID, TOKEN
    from tests.wechat import WeChat

    busy = create_app({**settings, "INLINE_BUSY_LIMIT": 0.0})
    try:
        WeChat(busy.test_client(), TOKEN, APPID, AES_KEY).send_text(LEAK, openid=BOUND)
        run_once(busy, utcnow())  # the scheduler answers the queued message
    finally:
        services(busy).engine.dispose()
    case = db.scalars(select(Case).where(Case.openid == BOUND)).one()
    console.post(f"/console/cases/{case.number}/reply", text="师傅下午三点上门")
    page = console.page(f"/console/cases/{case.number}")
    assert page.count(f"已为您登记工单，编号 {case.number}") == 1
    assert page.count("· 工作人员") == 1 and "· 工作人员 admin" in page


def test_the_filtered_list_exports_as_csv(console: Console, wechat, db) -> None:
    import csv
    import io

    leak = report(wechat, db, "=1+1 楼上漏水，天花板滴水")
    other = report(wechat, db, "楼道里有好多蟑螂，麻烦来消杀", openid=OTHER)
    assert 'id="export-csv"' in console.page("/console/cases?intent=leak")
    res = console.client.get("/console/cases.csv?intent=leak")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    assert "attachment" in res.headers["Content-Disposition"]
    text = res.get_data(as_text=True)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0][0] == "工单号" and [r[0] for r in table[1:]] == [leak.number]
    row = dict(zip(table[0], table[1], strict=True))
    assert row["诉求内容"].startswith("'=1+1") and row["电话"] == "138****0001" and row["类别"] == "漏水渗水"
    assert other.number not in text


def test_staff_export_only_their_cases(client, street, wechat, db) -> None:
    case = report(wechat, db)
    add_user(db, "grid1", department="grid")
    console = Console(client)
    console.login("grid1", "secret-pass-1")
    assert case.number not in client.get("/console/cases.csv").get_data(as_text=True)


def test_staff_start_at_their_work_queue(client, street, db) -> None:
    from bot.domain.cases import transition

    normal, done = _cases(db, 2)
    [critical] = _cases(db, 1, priority="critical")
    transition(db, done, "resolve", actor="admin", now=done.created_at)
    db.commit()
    add_user(db, "wuye", department="property", community="茶马南街社区")
    console = Console(client)
    console.login("wuye", "secret-pass-1")
    html = console.page("/console/cases")
    assert _numbers(html) == [critical.number, normal.number]  # open cases only, 特急 first
    assert '<option value="active" selected>' in html
    assert set(_numbers(console.page("/console/cases?status="))) == {critical.number, normal.number, done.number}


def test_admins_start_at_every_case_newest_first(console: Console, db) -> None:
    made = _cases(db, 3)
    assert _numbers(console.page("/console/cases")) == [c.number for c in reversed(made)]


GAS = "家里闻到很浓的燃气味，煤气泄漏了"


def test_the_live_badge_counts_open_critical_cases_in_scope(client, street, wechat, db) -> None:
    gas = report(wechat, db, GAS)
    assert gas.priority == "critical"
    add_user(db, "wuye", department=gas.department, community="茶马南街社区")
    add_user(db, "grid1", department="grid" if gas.department != "grid" else "health")
    console = Console(client)
    console.login("wuye", "secret-pass-1")
    assert client.get("/console/live.json").get_json() == {"critical_open": 1, "newest_critical": gas.number}
    console.post("/console/logout")
    console.login("grid1", "secret-pass-1")
    assert client.get("/console/live.json").get_json() == {"critical_open": 0, "newest_critical": None}
    console.post("/console/logout")
    assert client.get("/console/live.json").status_code == 401  # login first: a poll is refused, not redirected


def test_an_internal_note_is_in_the_audit_trail_and_never_sent(console: Console, app, wechat, db, standin) -> None:  # type: ignore[no-untyped-def]
    from bot.clock import utcnow
    from scheduler.runner import run_once

    case = report(wechat, db)
    sent = len(standin.sent())
    res = console.post(f"/console/cases/{case.number}/note", text="楼上住户白天不在家，晚上七点后再联系")
    assert res.status_code == 302
    html = console.page(f"/console/cases/{case.number}")
    assert "内部备注已保存" in html and "楼上住户白天不在家" in html.split('id="audit"')[1]
    (note,) = [e for e in _events(db, case) if e.kind == "note"]
    assert note.actor == "admin"
    assert not db.scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.purpose == "reply")).all()
    run_once(app, utcnow())
    assert "晚上七点" not in str(standin.sent()[sent:])  # the resident never hears it
    console.post(f"/console/cases/{case.number}/note", text="  ")
    assert "备注内容不能为空" in console.page(f"/console/cases/{case.number}")


def test_a_community_clerk_filters_by_their_own_places_only(client, street, db) -> None:  # type: ignore[no-untyped-def]
    add_user(db, "clerk1", community="茶马南街社区")
    console = Console(client)
    assert console.login("clerk1", "secret-pass-1").status_code == 302
    filters = console.page("/console/cases").split('name="community"')[1].split("</form>")[0]
    assert "茶马南街社区" in filters and "马连道南口三区" in filters and "茶马南街1号院" in filters
    assert "天宁寺北里" not in filters and "红莲" not in filters
