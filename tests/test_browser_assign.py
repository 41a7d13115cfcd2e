"""In real Chromium: 我来办 on the case page, and a 常用回复 filling the reply box (console.js, no inline script)."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.helpers_console import report
from tests.test_browser import SHOTS, _login, page, server  # noqa: F401  # page, server: fixtures


def test_i_take_a_case_and_a_canned_reply_fills_the_reply_box(page: Page, wechat, db) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    case = report(wechat, db)
    _login(page)
    page.goto(f"/console/cases/{case.number}")
    page.click("#do-assign-me")
    expect(page.locator("#assignee")).to_have_text("承办人：admin")
    page.select_option("#canned-reply", label="需要补充信息")
    expect(page.locator("#reply-text")).to_have_value(
        "您好，为便于处理，请补充具体位置（楼号、单元、门牌号）和问题照片，直接在公众号里发送即可。谢谢！")
    page.screenshot(path=str(SHOTS / "case-assign-canned.png"), full_page=True)
    page.goto("/console/cases?mine=1")
    expect(page.locator(f'tr[data-number="{case.number}"] td.assignee')).to_have_text("admin")
