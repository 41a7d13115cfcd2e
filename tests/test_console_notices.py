"""Notices in the console: create, edit before sending, cancel, per-notice progress."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import fmt_local, utcnow
from bot.storage.models import Notice
from scheduler.runner import run_once
from tests.helpers_console import Console, add_user, console  # noqa: F401 - fixture
from tests.helpers_intake import street  # noqa: F401 - fixture

COMPOUND = "马连道南口三区"  # the demo resident demo-resident-1 lives in building 5




def _create(console: Console, cleanup, **extra: str):  # type: ignore[no-untyped-def]
    return console.post("/console/notices", compound=COMPOUND, buildings="5", community="",
                        cleanup_at=fmt_local(cleanup, "%Y-%m-%dT%H:%M"), text="请搬走楼道杂物", **extra)


def test_create_then_watch_progress(console: Console, app, db, standin) -> None:
    cleanup = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    res = _create(console, cleanup)
    assert res.status_code == 302
    notice = db.query(Notice).one()
    assert notice.created_by == "admin" and notice.target["buildings"] == ["5"]
    page = console.page(f"/console/notices/{notice.id}")
    assert "请搬走楼道杂物" in page and 'class="n-targeted">1<' in page and "保存修改" in page
    run_once(app, cleanup - timedelta(days=1))  # the one-day offset is due: fan out and send
    page = console.page(f"/console/notices/{notice.id}")
    assert 'class="n-sent">1<' in page
    assert "保存修改" not in page  # sending has started: no more edits
    res = console.post(f"/console/notices/{notice.id}/edit", text="改了")
    assert res.status_code == 302
    assert "不能再修改" in console.page(f"/console/notices/{notice.id}")
    assert [s["openid"] for s in standin.sent()] == ["demo-resident-1"]


def test_edit_before_sending_and_cancel(console: Console, db) -> None:
    cleanup = (utcnow() + timedelta(days=10)).replace(second=0, microsecond=0)
    _create(console, cleanup)
    notice = db.query(Notice).one()
    later = cleanup + timedelta(days=1)
    res = console.post(f"/console/notices/{notice.id}/edit", text="新的内容", buildings="4,5",
                       cleanup_at=fmt_local(later, "%Y-%m-%dT%H:%M"))
    assert res.status_code == 302
    db.refresh(notice)
    assert (notice.text, notice.target["buildings"], notice.cleanup_at) == ("新的内容", ["4", "5"], later)
    assert console.post(f"/console/notices/{notice.id}/cancel").status_code == 302
    db.refresh(notice)
    assert notice.status == "cancelled"
    assert "已撤销" in console.page("/console/notices")


@pytest.mark.parametrize("fields", [
    {"compound": "不存在的小区"},
    {"cleanup_at": "2001-01-01T10:00"},
    {"cleanup_at": "not a time"},
    {"text": "  "},
])
def test_invalid_notices_are_refused(console: Console, db, fields: dict[str, str]) -> None:
    cleanup = fmt_local(utcnow() + timedelta(days=3), "%Y-%m-%dT%H:%M")
    data = {"compound": COMPOUND, "buildings": "", "community": "", "cleanup_at": cleanup, "text": "请清理", **fields}
    res = console.post("/console/notices", **data)
    assert res.status_code == 302
    assert db.query(Notice).count() == 0
    assert "通知信息有误" in console.page("/console/notices")


def test_staff_of_another_community_cannot_send_there(client, street, db) -> None:
    add_user(db, "tn", department="property", community="天宁寺北里社区")
    console = Console(client)
    console.login("tn", "secret-pass-1")
    res = _create(console, utcnow() + timedelta(days=3))
    assert res.status_code == 403
    assert db.query(Notice).count() == 0


ENGLISH = __import__("re").compile(r"[A-Za-z]{3,} [A-Za-z]{2,}")


def _flashes(html: str) -> list[str]:
    return __import__("re").findall(r'<p class="flash [a-z]+">([^<]*)</p>', html)


@pytest.mark.parametrize("fields, says", [
    ({"compound": "没有这个小区"}, "找不到"),
    ({"buildings": "99"}, "找不到"),
    ({"text": " "}, "内容"),
    ({"cleanup_at": "2001-01-01T10:00"}, "已经过去"),
    ({"cleanup_at": "明天上午"}, "时间"),
    ({"compound": "", "community": ""}, "小区或社区"),
])
def test_a_refused_notice_is_explained_in_chinese(console: Console, fields: dict[str, str], says: str) -> None:
    cleanup = fmt_local(utcnow() + timedelta(days=3), "%Y-%m-%dT%H:%M")
    form = {"compound": COMPOUND, "buildings": "5", "community": "", "cleanup_at": cleanup,
            "text": "请搬走楼道杂物", **fields}
    res = console.post("/console/notices", **form)
    assert res.status_code == 302
    flashes = _flashes(console.page("/console/notices"))
    assert flashes and any(says in f for f in flashes), flashes
    assert not any(ENGLISH.search(f) for f in flashes), flashes


def test_a_refused_notice_edit_is_explained_in_chinese(console: Console, db) -> None:
    cleanup = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    _create(console, cleanup)
    notice = db.query(Notice).one()
    console.post(f"/console/notices/{notice.id}/edit", text="x", cleanup_at="2001-01-01T10:00")
    flashes = _flashes(console.page(f"/console/notices/{notice.id}"))
    assert any("已经过去" in f for f in flashes) and not any(ENGLISH.search(f) for f in flashes), flashes


@pytest.mark.parametrize("typed, kept", [("5号楼", ["5"]), ("4、5号楼", ["4", "5"]), ("4号楼，5号楼", ["4", "5"]),
                                         ("4 5", ["4", "5"]), ("5栋", ["5"])])
def test_buildings_as_clerks_type_them(console: Console, db, typed: str, kept: list[str]) -> None:
    cleanup = fmt_local(utcnow() + timedelta(days=3), "%Y-%m-%dT%H:%M")
    res = console.post("/console/notices", compound=COMPOUND, buildings=typed, community="", cleanup_at=cleanup,
                       text="请搬走楼道杂物")
    assert res.status_code == 302
    assert db.query(Notice).one().target["buildings"] == kept


def test_a_refused_notice_keeps_what_was_typed(console: Console, db) -> None:
    res = console.post("/console/notices", compound=COMPOUND, buildings="99", community="",
                       cleanup_at="2030-05-01T09:30", text="周六上午清理楼道，请把自行车搬回家")
    html = console.client.get(res.headers["Location"]).get_data(as_text=True)
    assert db.query(Notice).count() == 0
    assert "周六上午清理楼道，请把自行车搬回家</textarea>" in html
    assert 'value="99"' in html and 'value="2030-05-01T09:30"' in html
    assert f'<option value="{COMPOUND}" selected>' in html
