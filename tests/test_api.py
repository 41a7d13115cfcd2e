"""The JSON API: bearer token, cases, one case with its audit trail, the three rates."""
from __future__ import annotations

import json

import pytest

from tests.helpers_console import report
from tests.helpers_intake import events, street  # noqa: F401 - fixture

AUTH = {"Authorization": "Bearer test-api-token"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-api-token"},
                                     {"Authorization": "Bearer "}])
@pytest.mark.parametrize("path", ["/api/cases", "/api/stats", "/api/cases/20260101-0001"])
def test_token_is_required(client, headers: dict[str, str], path: str) -> None:
    res = client.get(path, headers=headers)
    assert res.status_code == 401
    assert res.get_json() == {"error": "unauthorized"}


def test_cases_and_one_case(client, street, wechat, db) -> None:
    case = report(wechat, db)
    data = client.get("/api/cases", headers=AUTH).get_json()
    assert [c["number"] for c in data["cases"]] == [case.number]
    row = data["cases"][0]
    assert (row["intent"], row["status"], row["community"], row["overdue"]) == ("leak", "open", "茶马南街社区", False)
    assert "phone" not in row and "room" not in row
    assert client.get("/api/cases?status=resolved", headers=AUTH).get_json()["cases"] == []
    assert len(client.get("/api/cases?community=茶马南街社区", headers=AUTH).get_json()["cases"]) == 1
    one = client.get(f"/api/cases/{case.number}", headers=AUTH).get_json()
    assert one["events"][0]["kind"] == "created"
    assert client.get("/api/cases/nope", headers=AUTH).status_code == 404


def test_stats(client, street, wechat, db) -> None:
    case = report(wechat, db)
    case.satisfaction, case.solved = "满意", True
    db.commit()
    data = client.get("/api/stats?by=intent", headers=AUTH).get_json()
    assert data["totals"]["received"] == 1 and data["totals"]["satisfaction_rate"] == 1.0
    assert [g["key"] for g in data["groups"]] == ["leak"]
    assert client.get("/api/stats?community=nowhere", headers=AUTH).status_code == 404
    assert client.get("/api/stats?start=2000-01-01&end=2000-01-31", headers=AUTH).get_json()["totals"]["received"] == 0


def test_api_needs_no_csrf_token_and_console_posts_do(client) -> None:
    # the token API only reads; the CSRF exemption must not open the console
    assert client.post("/console/login", data={"username": "a", "password": "b"}).status_code == 400


def test_case_events_carry_no_resident_text_and_no_usernames(client, street, wechat, db) -> None:
    from tests.helpers_console import Console, add_user

    case = report(wechat, db, "我家楼上漏水了，天花板一直在滴水，我电话13912345678")
    wechat.send_text("漏得更厉害了，邻居电话13700001111", openid="demo-resident-1")
    wechat.send_text("我家楼上漏水了，电话13700002222", openid="demo-resident-1")
    add_user(db, "wangxiaoming", role="admin")
    console = Console(client)
    console.login("wangxiaoming", "secret-pass-1")
    console.post(f"/console/cases/{case.number}/accept")
    console.post(f"/console/cases/{case.number}/reply", text="师傅13600003333下午到")
    console.post(f"/console/cases/{case.number}/resolve", note="已修好，住户13500004444确认")
    body = json.dumps(client.get(f"/api/cases/{case.number}", headers=AUTH).get_json(), ensure_ascii=False)
    assert len(events(db, case)) >= 6  # created, two messages, accept, reply, resolve
    for secret in ("139123", "137000", "136000", "135000", "wangxiaoming", "天花板", "邻居", "师傅", "修好"):
        assert secret not in body
    trail = client.get(f"/api/cases/{case.number}", headers=AUTH).get_json()["events"]
    assert {e["actor"] for e in trail} == {"resident", "staff"}
    assert [e["kind"] for e in trail][:1] == ["created"] and "accept" in [e["kind"] for e in trail]
    assert all(set(e) == {"kind", "actor", "at"} for e in trail)


def test_the_demo_token_works_only_from_this_machine(settings) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    from bot.services import services

    demo = {k: v for k, v in settings.items() if k != "API_TOKEN"}
    app = create_app(demo)
    try:
        assert app.config["API_TOKEN"] == "demo-api-token"
        client, token = app.test_client(), {"Authorization": "Bearer demo-api-token"}
        assert client.get("/api/cases", headers=token).status_code == 200
        remote = client.get("/api/cases", headers=token, environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert remote.status_code == 401
    finally:
        services(app).engine.dispose()


def test_a_chosen_token_works_from_anywhere(client) -> None:
    res = client.get("/api/cases", headers=AUTH, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert res.status_code == 200
