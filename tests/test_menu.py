"""The account's menu: templates/menu.yaml pushed through the CLI to the stand-in; CLICK keys run commands."""
from __future__ import annotations

import time
from pathlib import Path

import yaml
from sqlalchemy import select

from bot.config import ROOT
from bot.messaging.texts import render_text
from bot.storage.models import Case, InboundMessage
from tests.helpers_outreach import NOW
from tests.helpers_outreach import street as a_street
from tests.test_browser import page, server  # noqa: F401 - fixtures (the app in a thread, Chromium)

DECLARED = yaml.safe_load((ROOT / "templates" / "menu.yaml").read_text(encoding="utf-8"))


def _clicks(menu: dict) -> list[str]:  # type: ignore[type-arg]
    return [s["key"] for b in menu["button"] for s in b.get("sub_button", [b]) if s.get("type") == "click"]


def test_menu_push_sends_the_declared_menu(runner, standin) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["menu", "push"])
    assert result.exit_code == 0, result.output
    assert "已发送菜单：我要报事 · 我的工单 · 睦邻坊（通知公告、修改地址、转人工服务、使用帮助）" in result.output
    (sent,) = standin.requests_to("menu/create")
    assert sent["errcode"] == 0 and sent["body"] == DECLARED
    assert standin.menu == DECLARED


def test_menu_check_counts_buttons_without_sending(runner, standin) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["menu", "check"])
    assert result.exit_code == 0, result.output
    assert f"3 个按钮、{len(_clicks(DECLARED))} 个点击事件" in result.output
    assert standin.requests_to("menu/create") == []


def _push(runner, tmp_path: Path, menu: object):  # type: ignore[no-untyped-def]
    path = tmp_path / "menu.yaml"
    path.write_text(yaml.safe_dump(menu, allow_unicode=True), encoding="utf-8")
    return runner.invoke(args=["menu", "push", "--file", str(path)])


def test_a_menu_wechat_would_refuse_is_not_sent(runner, standin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    click = {"name": "报事", "type": "click", "key": "report"}
    cases = {
        "没有对应的功能": {"button": [{"name": "报事", "type": "click", "key": "no_such"}]},
        "1 到 3 个按钮": {"button": [click] * 4},
        "子菜单（sub_button）需要 1 到 5 项": {"button": [{"name": "更多", "sub_button": [click] * 6}]},
        "为空或太长": {"button": [{"name": "我要报告问题", "type": "click", "key": "report"}]},
        "不支持": {"button": [{"name": "小程序", "type": "miniprogram"}]},
        "url": {"button": [{"name": "网页", "type": "view", "url": "ftp://x"}]},
        "不是有效的 YAML": "button: [",
    }
    for message, menu in cases.items():
        result = _push(runner, tmp_path, menu) if not isinstance(menu, str) else None
        if result is None:
            (tmp_path / "menu.yaml").write_text(menu, encoding="utf-8")
            result = runner.invoke(args=["menu", "push", "--file", str(tmp_path / "menu.yaml")])
        assert result.exit_code != 0 and message in result.output, (message, result.output)
    assert standin.requests_to("menu/create") == []


def test_a_view_button_and_wechat_errors(runner, standin, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    menu = {"button": [{"name": "睦邻坊", "type": "view", "url": "https://example.org/mulin", "extra": 1}]}
    assert _push(runner, tmp_path, menu).exit_code == 0
    assert standin.menu == {"button": [{"name": "睦邻坊", "type": "view", "url": "https://example.org/mulin"}]}
    standin.fail(40018, path="menu/create")
    failed = _push(runner, tmp_path, menu)
    assert failed.exit_code != 0 and "40018" in failed.output


def _click(wechat, key: str, openid: str = "o1", at: int | None = None):  # type: ignore[no-untyped-def]
    return wechat.event("CLICK", openid=openid, EventKey=key, create_time=at)


def test_every_declared_click_key_answers(wechat, db) -> None:  # type: ignore[no-untyped-def]
    a_street(db)
    now = int(time.time())
    for i, key in enumerate(_clicks(DECLARED)):
        reply = _click(wechat, key, openid="o-和平里-1-0", at=now + i)
        assert reply.status == 200 and reply.text, key


def test_click_keys_give_the_same_answer_as_the_typed_commands(wechat, db) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time())
    assert _click(wechat, "help", at=now).text == wechat.send_text("帮助").text == render_text("intake/help")
    assert _click(wechat, "my_cases", at=now + 1).text == wechat.send_text("我的工单").text
    assert _click(wechat, "report", at=now + 2).text == render_text("menu/report")
    assert _click(wechat, "address", at=now + 3).text == render_text("intake/change_address")


def test_the_report_button_then_a_message_opens_a_case(wechat, db) -> None:  # type: ignore[no-untyped-def]
    a_street(db)
    _click(wechat, "report", openid="o-和平里-6-0")
    reply = wechat.send_text("楼上漏水，顶棚一直滴水", openid="o-和平里-6-0")
    case = db.scalars(select(Case).where(Case.openid == "o-和平里-6-0")).one()
    assert case.number in reply.text and case.intent == "leak"


def test_the_handoff_button_flags_a_case_for_a_person(wechat, db) -> None:  # type: ignore[no-untyped-def]
    a_street(db)
    reply = _click(wechat, "handoff", openid="o-和平里-1-0")
    case = db.scalars(select(Case).where(Case.openid == "o-和平里-1-0")).one()
    assert case.handoff and case.text == render_text("menu/handoff_case")
    assert case.number in reply.text


def test_the_notices_button_lists_the_residents_coming_cleanups(wechat, db, runner) -> None:  # type: ignore[no-untyped-def]
    a_street(db)
    now = int(time.time())
    assert "没有清理通知" in _click(wechat, "notices", openid="o-和平里-1-0", at=now).text
    at = NOW.strftime("%Y-%m-%d 09:00")
    for buildings, text in (("1,2", "请清理一二号楼楼道"), ("6", "请清理六号楼楼道")):
        created = runner.invoke(args=["notice", "create", "--compound", "和平里", "--buildings", buildings,
                                      "--at", at, "--text", text])
        assert created.exit_code == 0, created.output
    reply = _click(wechat, "notices", openid="o-和平里-1-0", at=now + 1).text
    assert "请清理一二号楼楼道" in reply and "六号楼" not in reply
    unbound = _click(wechat, "notices", openid="stranger", at=now + 2).text
    assert "还没有登记地址" in unbound


def test_a_key_the_menu_no_longer_has_gets_the_help(wechat) -> None:  # type: ignore[no-untyped-def]
    assert _click(wechat, "old_key").text == render_text("intake/help")


def test_the_simulator_shows_the_menu_and_taps_it_through_the_webhook(client, db) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers_console import Console, add_user

    a_street(db)
    add_user(db, "demo-admin", role="admin")
    console = Console(client)
    console.login("demo-admin", "secret-pass-1")
    html = console.page("/console/simulator")
    for key in _clicks(DECLARED):
        assert f'data-menu-key="{key}"' in html
    token = console.token("/console/simulator")
    res = client.post("/console/simulator/send", json={"openid": "o-和平里-1-0", "kind": "click", "key": "my_cases"},
                      headers={"X-CSRFToken": token})
    assert res.status_code == 200 and res.get_json()["reply"] == render_text("intake/my_cases", cases=[])
    bad = client.post("/console/simulator/send", json={"openid": "o-和平里-1-0", "kind": "click", "key": "nope"},
                      headers={"X-CSRFToken": token})
    assert bad.status_code == 400


def test_the_simulators_menu_in_a_real_browser(page, db) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Chromium: tap 我的工单, then 睦邻坊 → 使用帮助; each answer comes back through the webhook."""
    from playwright.sync_api import expect

    from tests.helpers_intake import BOUND
    from tests.test_browser import SHOTS, _login

    _login(page)
    page.goto(f"/console/simulator?openid={BOUND}")
    chat = page.locator("#sim-chat")
    page.click("#sim-menu >> text=我的工单")
    expect(chat.locator("li.resident").last).to_contain_text("[菜单] 我的工单")
    expect(chat.locator("li.bot").last).to_contain_text("您还没有工单")
    page.click("#sim-menu summary:has-text('睦邻坊')")
    page.click("#sim-menu >> text=使用帮助")
    expect(chat.locator("li.bot").last).to_contain_text("使用说明")
    page.screenshot(path=str(SHOTS / "simulator-menu.png"), full_page=True)


def test_two_taps_within_one_second_are_two_events_and_a_retry_is_one(wechat, db) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time())
    assert _click(wechat, "my_cases", at=now).text == render_text("intake/my_cases", cases=[])
    assert _click(wechat, "help", at=now).text == render_text("intake/help")
    assert _click(wechat, "help", at=now).text == render_text("intake/help")  # WeChat's retry: the first answer
    assert db.query(InboundMessage).filter(InboundMessage.openid == "o1").count() == 2
