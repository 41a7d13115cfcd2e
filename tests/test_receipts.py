"""Delivery receipts and knowing before sending (issue 14 items 3 and 4), through the signed webhook and the
stand-in: TEMPLATESENDJOBFINISH / subscribe_msg_sent_event mark the delivery they name (by msgid) delivered,
blocked by the user or failed; a notice's progress counts each planned message in one state; creating a
notice says which channel reaches how many residents and who cannot be reached, and the send agrees."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot import create_app
from bot.clock import fmt_local, utcnow
from bot.devtools.wechat_push import receipt_xml
from bot.services import services
from bot.storage.models import Notice, Outbox, Resident, Subscription
from scheduler.runner import run_once
from tests.helpers_outreach import NOW, received, street
from tests.wechat import WeChat

CLEANUP = NOW + timedelta(days=10)
DAY = timedelta(days=1)
FIRST = CLEANUP - 7 * DAY  # the week-before send


def create(runner, *args: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["notice", "create", "--at", fmt_local(CLEANUP), "--text", "请清理自行车", *args])
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1]), result.output


def show(runner, notice_id: int) -> str:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["notice", "show", str(notice_id)])
    assert result.exit_code == 0, result.output
    return result.output


def rows(db, notice_id: int) -> dict[str, Outbox]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return {r.openid: r for r in db.scalars(select(Outbox).where(Outbox.notice_id == notice_id,
                                                                 Outbox.notice_offset == 10080))}


def test_template_receipts_mark_each_delivery(app, db, runner, wechat, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)  # imported residents who never wrote: template messages (TEMPLATE_IDS default)
    notice_id, created = create(runner, "--compound", "和平里", "--buildings", "1,2")
    assert "模板消息 4 人" in created and "无法送达 0 人" in created
    run_once(app, FIRST)
    sent = rows(db, notice_id)
    assert {r.channel for r in sent.values()} == {"template"}
    assert {r.openid: r.msgid for r in sent.values()} == {
        s["openid"]: str(s["msgid"]) for s in standin.sent("template")}
    assert "已发送：4（已送达 0，微信排队中、待回执 4）" in show(runner, notice_id)

    blocked = standin.receipts("failed:user block", openid="o-和平里-1-0")
    assert wechat.post(blocked[0]).body == "success"  # a receipt is answered silently
    assert wechat.post(blocked[0]).body == "success"  # WeChat's retry of it changes nothing
    wechat.post(standin.receipts("failed: system failed", openid="o-和平里-1-1")[0])
    for openid in ("o-和平里-2-0", "o-和平里-2-1"):
        wechat.post(standin.receipts("success", openid=openid)[0])
    sent = rows(db, notice_id)
    assert sent["o-和平里-1-0"].receipt == "user_block" and sent["o-和平里-1-1"].receipt == "system_failed"
    assert {sent[o].receipt for o in ("o-和平里-2-0", "o-和平里-2-1")} == {"delivered"}

    shown = show(runner, notice_id)
    assert "待发送：4（其中未到发送时间 4）" in shown  # the day-before send, not the same rows as the failures
    assert "已发送：2（已送达 2，微信排队中、待回执 0）" in shown and "失败：2" in shown
    assert "居民已拒收公众号消息（微信回执：用户拒收）：1 条" in shown
    assert "微信系统原因未能送达（微信回执：系统失败）：1 条" in shown and "None" not in shown
    from bot.domain import notices  # the same counts the console shows: every planned message once
    p = notices.notice_progress(db, db.get(Notice, notice_id))
    assert (p.scheduled, p.queued, p.delivered, p.failed) == (4, 0, 2, 2)
    assert p.pending + p.sent + p.failed + p.uncertain + p.cancelled == p.targeted * 2


def test_a_receipt_for_an_unknown_msgid_or_another_resident_changes_nothing(app, db, runner, wechat,
                                                                            standin) -> None:  # type: ignore[no-untyped-def]
    street(db, buildings=("1",))
    notice_id, _ = create(runner, "--compound", "和平里")
    run_once(app, FIRST)
    msg_id = rows(db, notice_id)["o-和平里-1-0"].msgid
    assert wechat.post(receipt_xml("o-和平里-1-1", "template", msg_id, "failed:user block")).status == 200
    assert wechat.post(receipt_xml("o-和平里-1-0", "template", 999999, "failed:user block")).status == 200
    assert {r.receipt for r in rows(db, notice_id).values()} == {None}


SUBSCRIPTIONS = """
notice:
  template_id: sub-notice
  fields:
    thing1: "楼道清理通知"
    thing2: "{{ text | first_line }}"
"""


@pytest.fixture
def sub_app(settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "subscriptions.yaml"
    path.write_text(SUBSCRIPTIONS, encoding="utf-8")
    application = create_app({**settings, "WECHAT_SUBSCRIPTIONS_PATH": str(path), "TEMPLATE_IDS": {}})
    yield application
    services(application).engine.dispose()


def test_subscription_notice_receipts_and_forecast(sub_app, standin) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import AES_KEY, APPID, TOKEN
    with sub_app.app_context():
        session = services(sub_app).sessions()
        street(session, buildings=("1",))
        session.add(Subscription(openid="o-和平里-1-0", template_id="sub-notice", status="accept", updated_at=NOW))
        session.commit()
        session.close()
    runner = sub_app.test_cli_runner()
    notice_id, created = create(runner, "--compound", "和平里")
    assert "订阅通知 1 人" in created and "模板消息 0 人" in created and "从未留言 1 人" in created
    run_once(sub_app, FIRST)
    assert [s["openid"] for s in standin.sent("subscribe")] == ["o-和平里-1-0"]
    with sub_app.app_context():
        db = services(sub_app).sessions()
        sent = rows(db, notice_id)
        assert sent["o-和平里-1-0"].msgid == str(standin.sent("subscribe")[0]["msgid"])
        assert sent["o-和平里-1-1"].status == "failed"  # not reachable, as foretold
        pusher = WeChat(sub_app.test_client(), TOKEN, APPID, AES_KEY)
        assert pusher.post(standin.receipts("failed:user block")[0]).status == 200
        assert rows(db, notice_id)["o-和平里-1-0"].receipt == "user_block"
        db.close()
    shown = show(runner, notice_id)
    assert "失败：2" in shown and "居民已拒收公众号消息" in shown
    assert "无法送达：居民48小时内没有留言，没有订阅通知，也没有配置模板消息：1 条" in shown


def test_forecast_names_every_unreachable_reason_and_the_send_agrees(settings, standin) -> None:  # type: ignore[no-untyped-def]
    app = create_app({**settings, "TEMPLATE_IDS": {}})  # no template messages set up (the case)
    try:
        with app.app_context():
            db = services(app).sessions()
            street(db, residents_per_building=5, buildings=("1",))
            recent, old = FIRST - timedelta(hours=1), FIRST - timedelta(days=3)
            db.execute(update(Resident).where(Resident.openid == "o-和平里-1-0").values(last_inbound_at=recent))
            db.execute(update(Resident).where(Resident.openid == "o-和平里-1-1").values(last_inbound_at=old))
            db.execute(update(Resident).where(Resident.openid == "o-和平里-1-2").values(subscribed=False))
            db.commit()
            db.close()
        runner = app.test_cli_runner()
        notice_id, created = create(runner, "--compound", "和平里", "--buildings", "1")
        assert f"按第一次发送时间 {fmt_local(FIRST)}" in created
        assert "目标居民 5 人" in created and "可以送达 1 人：客服消息（48小时内有留言）1 人" in created
        assert ("无法送达 4 人：从未留言 2 人，超过48小时未留言且无订阅通知、无模板消息 1 人，已取消关注 1 人"
                in created)
        run_once(app, FIRST)
        assert set(received(standin)) == {"o-和平里-1-0"}
        shown = show(runner, notice_id)
        assert "已发送：1（已送达 1" in shown and "失败：3" in shown and "None" not in shown
        assert "无法送达：居民48小时内没有留言，没有订阅通知，也没有配置模板消息：3 条" in shown
    finally:
        services(app).engine.dispose()


def test_the_console_shows_the_forecast_when_a_notice_is_created(console, db) -> None:  # type: ignore[no-untyped-def]
    cleanup = NOW + timedelta(days=10)
    res = console.post("/console/notices", compound="马连道南口三区", buildings="5", community="",
                       cleanup_at=fmt_local(cleanup, "%Y-%m-%dT%H:%M"), text="请搬走楼道杂物")
    assert res.status_code == 302
    page = console.page(res.headers["Location"])
    assert 'id="reach"' in page and 'id="reach-total">1<' in page
    assert 'id="reach-template">1<' in page and 'id="reach-none">0<' in page


def test_the_case_page_shows_each_message_delivered_queued_or_failed(app, console, wechat, db,
                                                                     standin) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers_console import report
    from tests.helpers_intake import BOUND
    case = report(wechat, db)
    db.execute(update(Resident).where(Resident.openid == BOUND).values(last_inbound_at=utcnow() - 3 * DAY))
    db.commit()  # the resident last wrote 3 days ago: case updates go as template messages
    assert console.post(f"/console/cases/{case.number}/resolve", note="已更换楼上水管").status_code == 302
    run_once(app)
    page = console.page(f"/console/cases/{case.number}")
    assert 'id="case-deliveries"' in page and "模板消息" in page and "微信排队中（待回执）" in page
    wechat.post(standin.receipts("failed:user block", openid=BOUND)[0])
    page = console.page(f"/console/cases/{case.number}")
    assert "未送达：居民已拒收公众号消息（微信回执：用户拒收）" in page and "微信排队中（待回执）" not in page


def test_the_stand_in_pushes_receipts_to_a_running_mulin(app, db, runner, standin) -> None:  # type: ignore[no-untyped-def]
    import threading

    from werkzeug.serving import make_server

    from bot.devtools.wechat_push import Pusher
    from tests.conftest import AES_KEY, APPID, TOKEN
    street(db, buildings=("1",))
    notice_id, _ = create(runner, "--compound", "和平里")
    run_once(app, FIRST)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:  # over real HTTP, signed and encrypted like WeChat (what `make run`'s stand-in does after each send)
        pushed = standin.push_receipts(f"http://127.0.0.1:{srv.server_port}/wechat", Pusher(TOKEN, APPID, AES_KEY))
    finally:
        srv.shutdown()
        thread.join(5)
    assert pushed == 2
    assert {r.receipt for r in rows(db, notice_id).values()} == {"delivered"}
    assert "已发送：2（已送达 2，微信排队中、待回执 0）" in show(runner, notice_id)


def test_a_receipt_that_beats_its_msgid_is_kept_and_set_at_the_next_pass(app, db, runner, wechat,  # type: ignore[no-untyped-def]
                                                                        standin) -> None:
    from bot.storage.models import EarlyReceipt
    street(db, residents_per_building=1, buildings=("1",))
    notice_id, _ = create(runner, "--compound", "和平里")
    first_msgid = 1000  # the stand-in's first msgid: WeChat's receipt comes before Mulin committed it
    assert wechat.post(receipt_xml("o-和平里-1-0", "template", first_msgid, "failed:user block")).body == "success"
    assert wechat.post(receipt_xml("o-和平里-1-0", "template", 777777, "success")).status == 200  # never sent
    db.expire_all()
    assert {r.msgid for r in db.scalars(select(EarlyReceipt))} == {str(first_msgid), "777777"}
    counts = run_once(app, FIRST)  # the send stores msgid 1000; the same pass sets the kept receipt
    sent = rows(db, notice_id)["o-和平里-1-0"]
    assert (sent.msgid, sent.receipt) == (str(first_msgid), "user_block")
    assert counts["early_receipts"]["applied"] == 1
    assert "居民已拒收公众号消息（微信回执：用户拒收）：1 条" in show(runner, notice_id)
    db.expire_all()
    assert not list(db.scalars(select(EarlyReceipt)))  # the unknown one was dropped: it is a day old at FIRST
