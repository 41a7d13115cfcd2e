"""The resident simulator: chats through the real signed webhook, shows pushes, off in production."""
from __future__ import annotations

import pytest

from bot import create_app
from bot.clock import utcnow
from bot.services import services
from scheduler.runner import run_once
from tests.helpers_console import Console, add_user
from tests.helpers_intake import BOUND, cases_of


def _send(console: Console, **payload: str):  # type: ignore[no-untyped-def]
    token = console.token("/console/simulator")
    return console.client.post("/console/simulator/send", json=payload, headers={"X-CSRFToken": token})


def test_chat_goes_through_the_webhook(console: Console, db) -> None:
    res = _send(console, openid=BOUND, text="楼上漏水，顺着墙往下流")
    assert res.status_code == 200
    [case] = cases_of(db, BOUND)
    assert case.number in res.get_json()["reply"]
    history = console.client.get(f"/console/simulator/history?openid={BOUND}").get_json()
    assert [line["who"] for line in history["lines"]] == ["resident", "bot"]


def test_new_resident_follows_the_account(console: Console) -> None:
    data = _send(console, kind="new").get_json()
    assert data["openid"].startswith("sim-") and data["status"] == 200 and data["reply"]
    assert data["openid"] in console.page("/console/simulator")


def test_later_pushes_appear_in_the_feed(console: Console, app, db) -> None:
    _send(console, openid=BOUND, text="楼上漏水，顺着墙往下流")
    [case] = cases_of(db, BOUND)
    console.post(f"/console/cases/{case.number}/reply", text="师傅马上到")
    start = console.client.get(f"/console/simulator/feed?openid={BOUND}&since=0").get_json()
    run_once(app, utcnow())
    feed = console.client.get(f"/console/simulator/feed?openid={BOUND}&since={start['total']}").get_json()
    assert "师傅马上到" in [p["text"] for p in feed["pushes"]]
    assert all(p["who"] == "bot" for p in feed["pushes"])


def test_send_needs_the_csrf_token(console: Console) -> None:
    res = console.client.post("/console/simulator/send", json={"openid": BOUND, "text": "hi"})
    assert res.status_code == 400


@pytest.mark.parametrize("payload", [{"openid": "", "text": "x"}, {"openid": BOUND, "text": " "},
                                     {"openid": "x" * 65, "text": "x"}])
def test_bad_sends_are_refused(console: Console, payload: dict[str, str]) -> None:
    assert _send(console, **payload).status_code == 400


def test_simulator_is_off_in_production(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app({**settings, "MULIN_ENV": "production"})
    try:
        client = app.test_client()
        for path in ("/console/simulator", "/console/simulator/history?openid=x", "/console/simulator/feed"):
            assert client.get(path).status_code == 404
        assert client.post("/console/simulator/send", json={}).status_code in (400, 404)
    finally:
        services(app).engine.dispose()


OTHER = "demo-resident-2"  # 天宁寺北里 (天宁寺北里社区), not 茶马南街社区


@pytest.fixture
def scoped(client, street, db) -> Console:  # type: ignore[no-untyped-def]
    """A property-company user of 茶马南街社区, logged in."""
    add_user(db, "wuye", department="property", community="茶马南街社区")
    c = Console(client)
    assert c.login("wuye", "secret-pass-1").status_code == 302
    return c


def test_scoped_staff_simulate_only_their_residents(scoped: Console, wechat) -> None:
    wechat.send_text("楼道里堆满了纸箱，麻烦清理一下", openid=OTHER)
    page = scoped.page("/console/simulator")
    assert BOUND in page and OTHER not in page
    assert scoped.client.get(f"/console/simulator/history?openid={OTHER}").status_code == 404
    assert scoped.client.get(f"/console/simulator/feed?openid={OTHER}&since=0").status_code == 404
    assert _send(scoped, openid=OTHER, text="我是别人").status_code == 404
    assert _send(scoped, kind="new").status_code == 403  # a new resident is in nobody's scope
    assert _send(scoped, openid=BOUND, text="楼上漏水，顺着墙往下流").status_code == 200
    lines = scoped.client.get(f"/console/simulator/history?openid={BOUND}").get_json()["lines"]
    assert [line["who"] for line in lines] == ["resident", "bot"]


def test_admins_simulate_anyone(console: Console, wechat) -> None:
    wechat.send_text("楼道里堆满了纸箱，麻烦清理一下", openid=OTHER)
    assert OTHER in console.page("/console/simulator")
    assert console.client.get(f"/console/simulator/history?openid={OTHER}").status_code == 200


def test_workers_forked_from_one_app_make_different_msg_ids() -> None:
    """gunicorn --preload forks the web workers from one loaded app: a simulator message from each must not share a
    MsgId (the second would be taken for WeChat's retry of the first and its reply given again)."""
    import multiprocessing
    import re

    from bot.devtools.wechat_push import message_xml

    def msg_id(xml: str) -> str:
        return re.search(r"<MsgId>(\d+)</MsgId>", xml).group(1)  # type: ignore[union-attr]

    fork = multiprocessing.get_context("fork")
    with fork.Pool(2) as pool:
        ids = pool.starmap(message_xml, [("o-a", "text", {"Content": "漏水"})] * 6)
    ids += [message_xml("o-a", "text", {"Content": "漏水"}) for _ in range(3)]
    assert len({msg_id(x) for x in ids}) == len(ids)
