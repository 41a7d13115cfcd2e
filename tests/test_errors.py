"""Domain errors reach staff in Chinese: the message table, and the console's reasons."""
from __future__ import annotations

import re
from datetime import timedelta

import yaml

from bot.clock import fmt_local, utcnow
from bot.errors import MESSAGES_PATH, InvalidUser, MulinError, NotFound, message
from tests.helpers_console import Console, console  # noqa: F401 - fixture
from tests.helpers_intake import street  # noqa: F401 - fixture

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_message_is_chinese_and_fills_its_fields() -> None:
    table = yaml.safe_load(MESSAGES_PATH.read_text(encoding="utf-8"))
    for code, text in table.items():
        assert CHINESE.search(text), code
        fields = {name: "X" for name in re.findall(r"\{(\w+)\}", text)}
        assert "{" not in message(code, **fields), code


def test_an_error_keeps_its_code_and_fields() -> None:
    exc = NotFound("case_not_found", number="20261125-0001")
    assert isinstance(exc, MulinError) and (exc.code, exc.fields) == ("case_not_found", {"number": "20261125-0001"})
    assert str(exc) == "没有编号为 20261125-0001 的工单。"


def test_console_shows_why_a_user_was_refused(console: Console) -> None:  # noqa: F811 - fixture
    res = console.post("/console/users", username="li", password="short", role="staff")
    assert res.status_code == 302
    page = console.page("/console/users")
    assert "密码至少需要 8 个字符" in page and str(InvalidUser("password_short", length=8)) in page


def test_console_shows_why_a_notice_was_refused(console: Console) -> None:  # noqa: F811 - fixture
    cleanup = fmt_local(utcnow() + timedelta(days=3), "%Y-%m-%dT%H:%M")
    res = console.post("/console/notices", compound="火星小区", buildings="", community="", cleanup_at=cleanup,
                       text="请清理楼道")
    assert res.status_code == 302
    page = console.page("/console/notices")
    assert "没有名为“火星小区”的小区" in page
    assert not re.search(r"no compound|named", page)
