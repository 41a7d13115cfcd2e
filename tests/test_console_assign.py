"""A person-level assignee (我来办 / a colleague) and the reply form's 常用回复 (canned replies)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain import users
from bot.storage.models import CaseEvent
from tests.helpers_console import Console, add_user, console, report  # noqa: F401  # console: a fixture

ROWS = "<tbody>"


def _row(html: str, number: str) -> str:
    """The list row of the case (up to its end)."""
    start = html.index(f'data-number="{number}"')
    return html[start:html.index("</tr>", start)]


def test_i_take_the_case_and_the_list_shows_it_as_mine(client, street, wechat, db) -> None:  # type: ignore[no-untyped-def]
    case = report(wechat, db)
    other = report(wechat, db, "小区门口的路灯坏了，晚上很黑")
    add_user(db, "wang")  # staff limited to neither a department nor a community: sees both cases
    clerk = Console(client)
    assert clerk.login("wang", "secret-pass-1").status_code == 302
    page = clerk.page(f"/console/cases/{case.number}")
    assert 'id="do-assign-me"' in page and "承办人：未指定" in page
    assert clerk.post(f"/console/cases/{case.number}/assign", assignee="me").status_code == 302
    db.refresh(case)
    assert case.assignee is not None and case.assignee.username == "wang"
    event = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()[-1]
    assert (event.kind, event.actor, event.data) == ("assign", "wang", {"from": None, "to": "wang"})
    page = clerk.page(f"/console/cases/{case.number}")
    assert "承办人：wang" in page and 'id="do-assign-me"' not in page and "指定承办人：无 → wang" in page
    listing = clerk.page("/console/cases?status=")
    assert 'class="assignee">wang<' in _row(listing, case.number)
    assert other.number in listing
    mine = clerk.page("/console/cases?mine=1")
    assert case.number in mine and other.number not in mine.split(ROWS, 1)[1] and "共 1 条" in mine


def test_a_colleague_who_may_see_the_case_can_be_assigned_and_others_cannot(console: Console, wechat, db) -> None:  # noqa: F811
    case = report(wechat, db)
    add_user(db, "li", department="property", community="茶马南街社区")
    add_user(db, "zhao", department="grid")  # another department: never sees the case
    add_user(db, "chen", department="property", community="天宁寺北里社区")  # another community
    li, zhao, chen = (users.get(db, n) for n in ("li", "zhao", "chen"))
    page = console.page(f"/console/cases/{case.number}")
    assert f'<option value="{li.id}"' in page
    assert f'<option value="{zhao.id}"' not in page and f'<option value="{chen.id}"' not in page
    for refused in (zhao, chen):
        res = console.post(f"/console/cases/{case.number}/assign", assignee=str(refused.id))
        assert res.status_code == 302
        assert "请选择另一位可查看该工单的同事" in console.page(f"/console/cases/{case.number}")
        db.refresh(case)
        assert case.assignee_id is None
    assert console.post(f"/console/cases/{case.number}/assign", assignee=str(li.id)).status_code == 302
    db.refresh(case)
    assert case.assignee_id == li.id
    assert console.post(f"/console/cases/{case.number}/assign", assignee="").status_code == 302  # nobody
    db.refresh(case)
    assert case.assignee_id is None
    kinds = [(e.kind, e.actor, e.data) for e in db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert kinds[-2:] == [("assign", "admin", {"from": None, "to": "li"}),
                          ("assign", "admin", {"from": "li", "to": None})]


def test_staff_cannot_assign_a_case_outside_their_scope(client, street, wechat, db) -> None:  # type: ignore[no-untyped-def]
    case = report(wechat, db)
    add_user(db, "zhao", department="grid")
    clerk = Console(client)
    assert clerk.login("zhao", "secret-pass-1").status_code == 302
    res = clerk.post(f"/console/cases/{case.number}/assign", assignee="me")
    assert res.status_code == 404 and "不在您的负责范围内" in res.get_data(as_text=True)
    db.refresh(case)
    assert case.assignee_id is None
    assert db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "assign")).all() == []


def test_the_reply_form_offers_the_canned_replies(console: Console, wechat, db) -> None:  # noqa: F811
    case = report(wechat, db)
    page = console.page(f"/console/cases/{case.number}")
    assert 'id="canned-reply"' in page and ">需要补充信息</option>" in page
    assert "请补充具体位置（楼号、单元、门牌号）" in page


@pytest.mark.parametrize("text,complaint", [
    ("- title: 只有标题\n", "entry 1"),
    ("title: 不是列表\n", "list"),
    ("- title: a\n  text: '" + "长" * 601 + "'\n", "600"),
    ("- [broken\n", "cannot be read"),
])
def test_a_bad_canned_replies_file_stops_start_up(settings, tmp_path: Path, text: str, complaint: str) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    path = tmp_path / "canned_replies.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        create_app({**settings, "CANNED_REPLIES_PATH": str(path)})
    assert "canned_replies.yaml" in str(stopped.value) and complaint in str(stopped.value)
