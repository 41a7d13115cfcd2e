"""Template messages with their real fields (issue 14, item 1): the file maps each purpose to a template
id and fields rendered from the message, trimmed to WeChat's limits, checked at start-up."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import fmt_local, utcnow
from bot.messaging import outbox, template_book
from bot.services import services
from bot.storage.models import Outbox
from scheduler.jobs import drain_bulk, drain_outbox
from tests.helpers_outreach import case, staff, street

BOOK = """
notice:
  template_id: tpl-notice
  fields:
    thing1: "{{ street }}楼道清理通知"
    time2: "{{ notice.cleanup_at | local if notice else sent_at | local }}"
    thing3: "{{ text | first_line }}"
staff:
  template_id: tpl-staff
  url: "{{ base_url }}/console/cases/{{ case.number }}"
  fields:
    character_string1: "{{ case.number }}"
    thing2: "{{ case.department | label('department') }}"
    time3: "{{ case.due_at | local }}"
followup:
  template_id: ""
  fields:
    thing1: "{{ text }}"
"""


@pytest.fixture
def book_app(settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    from bot import create_app
    path = tmp_path / "templates.yaml"
    path.write_text(BOOK, encoding="utf-8")
    application = create_app({**settings, "WECHAT_TEMPLATES_PATH": str(path),
                              "PUBLIC_BASE_URL": "https://mulin.example.gov.cn", "STREET_NAME": "广安门外街道"})
    yield application
    services(application).engine.dispose()


def test_a_notice_outside_the_window_carries_the_templates_fields(book_app, db, standin) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import notices
    street(db, residents_per_building=1, buildings=("1",))
    now = utcnow()
    notice = notices.create_notice(db, compound="和平里", community=None, buildings=None, now=now,
                                   cleanup_at=now + timedelta(days=3), actor="test",
                                   text="请在周五前把楼道里的自行车、纸箱和花盆搬回家中，逾期将统一清理")
    db.commit()
    from scheduler.notice_jobs import fan_out
    with book_app.app_context():
        fan_out(book_app, now)
    drain_bulk(book_app, now)
    [sent] = standin.sent("template")
    body = sent["body"]
    assert body["template_id"] == "tpl-notice" and "url" not in body
    data = {k: v["value"] for k, v in body["data"].items()}
    assert data["thing1"] == "广安门外街道楼道清理通知"
    assert data["time2"] == fmt_local(notice.cleanup_at)
    assert len(data["thing3"]) == 20 and data["thing3"].endswith("…")  # WeChat's limit for a thing field


def test_a_staff_alert_carries_the_case_and_a_link_to_its_page(book_app, db, standin) -> None:  # type: ignore[no-untyped-def]
    street(db, residents_per_building=1, buildings=("1",))
    staff(db, "o-staff", "property")
    row = case(db, "2026-0001", "o-和平里-1-0")
    outbox.enqueue(db, key="staff:1", openid="o-staff", purpose="staff", text="新工单 2026-0001：楼上漏水",
                   now=utcnow(), case_id=row.id)
    db.commit()
    drain_outbox(book_app, utcnow())
    [sent] = standin.sent("template")
    body = sent["body"]
    assert body["template_id"] == "tpl-staff"
    assert body["url"] == "https://mulin.example.gov.cn/console/cases/2026-0001"
    assert {k: v["value"] for k, v in body["data"].items()} == {
        "character_string1": "2026-0001", "thing2": "物业公司", "time3": fmt_local(row.due_at)}


def test_a_purpose_not_in_the_file_uses_the_template_ids_shortcut(book_app, db, standin) -> None:  # type: ignore[no-untyped-def]
    outbox.enqueue(db, key="fu:1", openid="o-fu", purpose="followup", text="您对处理结果满意吗？", now=utcnow())
    db.commit()
    drain_outbox(book_app, utcnow())
    [sent] = standin.sent("template")
    assert sent["body"]["template_id"] == "tpl-default"
    assert sent["body"]["data"] == {"content": {"value": "您对处理结果满意吗？"}}
    db.expire_all()
    assert db.scalars(select(Outbox)).one().status == "sent"


@pytest.mark.parametrize("text,complaint", [
    ("notice:\n  template_id: t\n  fields:\n    content: '{{ text }}'\n", "content"),
    ("notice:\n  template_id: t\n  fields:\n    thing1: '{{ text '\n", "thing1"),
    ("notice:\n  template_id: t\n", "fields"),
    ("- a list\n", "purpose"),
])
def test_a_bad_file_stops_start_up_with_a_clear_error(settings, tmp_path: Path, text: str, complaint: str) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    path = tmp_path / "templates.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        create_app({**settings, "WECHAT_TEMPLATES_PATH": str(path)})
    assert "templates.yaml" in str(stopped.value) and complaint in str(stopped.value)


def test_the_shipped_file_loads_and_sets_up_nothing_by_default() -> None:
    book = template_book.load({"default": "x"})
    assert book.entries == {} and book.shortcut == {"default": "x"}


@pytest.mark.parametrize("kind,value,expected", [
    ("thing", "一" * 20, "一" * 20), ("thing", "一" * 21, "一" * 19 + "…"), ("phrase", "处理中啊啊啊", "处理中啊…"),
    ("character_string", "2026-0001", "2026-0001"), ("thing", "两行\n文字", "两行 文字"),
])
def test_values_are_trimmed_to_the_field_types_limit(kind: str, value: str, expected: str) -> None:
    assert template_book.trim(kind, value) == expected
