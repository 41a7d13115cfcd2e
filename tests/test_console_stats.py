"""The statistics page and its CSV export, over cases reported through the webhook."""
from __future__ import annotations

import csv
import io

from tests.helpers_console import Console, add_user, report


def _rated(wechat, db, satisfaction: str, text: str = "我家楼上漏水了，天花板一直在滴水"):  # type: ignore[no-untyped-def]
    case = report(wechat, db, text)
    case.first_response_at = case.resolved_at = case.created_at
    case.status, case.satisfaction, case.solved = "resolved", satisfaction, satisfaction != "不满意"
    db.commit()
    return case


def test_page_shows_the_three_rates_and_charts(console: Console, wechat, db) -> None:
    _rated(wechat, db, "满意")
    _rated(wechat, db, "不满意", "楼道里堆满了杂物")
    html = console.page("/console/stats")
    assert 'id="kpi-received">2<' in html
    assert 'id="kpi-satisfaction">50.0%<' in html
    assert 'id="kpi-response">100.0%<' in html
    assert html.count("<svg") == 4 and "茶马南街社区" in html
    by_intent = console.page("/console/stats?by=intent")
    assert "漏水渗水" in by_intent and "楼道堆物" in by_intent


def test_csv_export(console: Console, wechat, db) -> None:
    _rated(wechat, db, "基本满意")
    res = console.client.get("/console/stats.csv?by=intent")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["类别", "受理量"]
    assert rows[1][0] == "漏水渗水" and rows[1][1] == "1"
    header = rows[0]
    assert rows[1][header.index("基本满意")] == "1" and rows[1][header.index("满意率%")] == "0.0"
    assert rows[-1][0].startswith("合计")


def test_staff_see_their_communitys_figures(client, street, wechat, db) -> None:
    _rated(wechat, db, "满意")
    add_user(db, "tn", department="property", community="天宁寺北里社区")
    console = Console(client)
    console.login("tn", "secret-pass-1")
    assert 'id="kpi-received">0<' in console.page("/console/stats")
