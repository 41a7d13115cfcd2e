"""Cleanup notices: CLI, targeting, offsets, late creation, cancel, update, errors, the 48-hour window."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import fmt_local
from bot.domain import notices
from bot.storage.models import Notice, Outbox, Resident
from scheduler.runner import run_once
from tests.helpers_outreach import NOW, received, street, texts

CLEANUP = NOW + timedelta(days=10)  # a Thursday, 10:00 Beijing
DAY = timedelta(days=1)


def cli_create(runner, *args: str) -> int:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["notice", "create", "--at", fmt_local(CLEANUP), "--text", "请清理自行车和纸箱", *args])
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1])  # after the reach forecast


def make(db, **kw):  # type: ignore[no-untyped-def]
    args = {"compound": "和平里", "community": None, "buildings": ["1", "2"], "cleanup_at": CLEANUP,
            "text": "请清理楼道", "actor": "test", "now": NOW}
    args.update(kw)
    notice = notices.create_notice(db, **args)
    db.commit()
    return notice


def test_cli_create_sends_at_both_offsets_to_the_buildings_only(app, db, runner, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)
    notice_id = cli_create(runner, "--compound", "和平里", "--buildings", "1,2")
    run_once(app, CLEANUP - 8 * DAY)
    assert not standin.sent()
    run_once(app, CLEANUP - 7 * DAY)
    first = received(standin)
    assert set(first) == {f"o-和平里-{b}-{i}" for b in ("1", "2") for i in range(2)}
    assert set(first.values()) == {1}
    run_once(app, CLEANUP - 6 * DAY)
    run_once(app, CLEANUP - 6 * DAY + timedelta(hours=1))
    assert received(standin) == first
    run_once(app, CLEANUP - DAY)
    run_once(app, CLEANUP - DAY + timedelta(minutes=5))
    assert set(received(standin).values()) == {2}
    week, day = texts(standin, "o-和平里-1-0")
    assert "和平里1号楼、2号楼" in week and fmt_local(CLEANUP) in week and "7天" in week
    assert "1天" in day and "请清理自行车和纸箱" in day and app.config["STREET_CONTACT"] in day
    rows = db.scalars(select(Outbox).where(Outbox.notice_id == notice_id)).all()
    assert sorted({r.notice_offset for r in rows}) == [1440, 10080] and len(rows) == 8
    assert {r.key for r in rows} >= {f"notice:{notice_id}:10080:o-和平里-2-1"}


@pytest.mark.parametrize("target, expected", [
    ({"compound": "和平里", "buildings": ["6"]}, {"o-和平里-6-0", "o-和平里-6-1"}),
    ({"compound": "和平里", "buildings": None}, {f"o-和平里-{b}-{i}" for b in ("1", "2", "6") for i in range(2)}),
    ({"compound": None, "community": "和平社区", "buildings": None},
     {f"o-{c}-{b}-{i}" for c in ("和平里", "安华里") for b in ("1", "2", "6") for i in range(2)}),
])
def test_targeting(app, db, standin, target: dict, expected: set) -> None:  # type: ignore[no-untyped-def]
    street(db)
    street(db, compound="安华里")
    street(db, compound="别处", community="其他社区")
    notice = make(db, **{"community": None, **target})
    assert notices.notice_progress(db, notice).targeted == len(expected)
    run_once(app, CLEANUP - 7 * DAY)
    assert set(received(standin)) == expected


def test_unsubscribed_and_unbound_residents_are_not_targeted(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)
    db.scalars(select(Resident).where(Resident.openid == "o-和平里-1-0")).one().subscribed = False
    db.add(Resident(openid="o-nobody", created_at=NOW, subscribed=True))
    db.commit()
    make(db, buildings=None)
    run_once(app, CLEANUP - 7 * DAY)
    assert "o-和平里-1-0" not in received(standin) and "o-nobody" not in received(standin)
    assert len(received(standin)) == 5


@pytest.mark.parametrize("created_before, sends", [
    (timedelta(days=3), [(timedelta(0), 1), (timedelta(days=2), 2)]),  # 7-day one at once, then the 1-day one
    (timedelta(hours=20), [(timedelta(0), 1), (timedelta(hours=6), 1)]),  # only one message, at once (14:00)
])
def test_late_notice_sends_its_first_message_at_once(app, db, standin, created_before, sends) -> None:  # type: ignore[no-untyped-def]
    street(db, buildings=("1",), residents_per_building=1)
    created = CLEANUP - created_before
    make(db, buildings=None, now=created)
    for after, expected in sends:
        run_once(app, created + after)
        assert received(standin)["o-和平里-1-0"] == expected


def test_nothing_is_sent_after_the_cleanup(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    street(db, buildings=("1",), residents_per_building=1)
    notice = make(db, buildings=None)
    run_once(app, CLEANUP + timedelta(minutes=1))
    assert not standin.sent()
    db.refresh(notice)
    assert notices.notice_progress(db, notice).pending == 0


def test_cancel_stops_what_was_not_sent(app, db, runner, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)
    notice = make(db)
    run_once(app, CLEANUP - 7 * DAY)
    assert len(standin.sent()) == 4
    result = runner.invoke(args=["notice", "cancel", str(notice.id)])
    assert result.exit_code == 0, result.output
    run_once(app, CLEANUP - DAY)
    assert len(standin.sent()) == 4
    db.expire_all()
    progress = notices.notice_progress(db, db.get(Notice, notice.id))
    assert (progress.sent, progress.pending) == (4, 0)


def test_cancel_between_fan_out_and_sending_cancels_the_rows(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    from scheduler.notice_jobs import fan_out

    street(db)
    notice = make(db)
    assert fan_out(app, CLEANUP - 7 * DAY)["deliveries"] == 4
    notices.cancel_notice(db, notice.id, actor="test", now=NOW)
    db.commit()
    run_once(app, CLEANUP - 7 * DAY)
    assert not standin.sent()
    assert notices.notice_progress(db, notice).cancelled == 4


def test_update_before_sending_then_locked(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    street(db)
    notice = make(db)
    notices.update_notice(db, notice.id, text="改为清理电动车", buildings=["6"],
                          cleanup_at=CLEANUP + DAY, actor="test", now=NOW)
    db.commit()
    run_once(app, CLEANUP + DAY - 7 * DAY)
    assert set(received(standin)) == {"o-和平里-6-0", "o-和平里-6-1"}
    assert "改为清理电动车" in texts(standin, "o-和平里-6-0")[0]
    with pytest.raises(notices.NoticeLocked):
        notices.update_notice(db, notice.id, text="再改", actor="test", now=NOW)


@pytest.mark.parametrize("kw, error", [
    ({"compound": "没有这个小区"}, notices.NotFound),
    ({"buildings": ["99"]}, notices.NotFound),
    ({"community": "和平社区"}, notices.InvalidNotice),  # both compound and community
    ({"compound": None}, notices.InvalidNotice),  # neither
    ({"text": "  "}, notices.InvalidNotice),
    ({"cleanup_at": NOW - DAY}, notices.InvalidNotice),
])
def test_invalid_notices_are_refused(db, kw: dict, error: type) -> None:  # type: ignore[no-untyped-def]
    street(db)
    with pytest.raises(error):
        make(db, **kw)


def test_cli_refuses_bad_input_politely(db, runner) -> None:  # type: ignore[no-untyped-def]
    street(db)
    result = runner.invoke(args=["notice", "create", "--compound", "无此小区", "--at", fmt_local(CLEANUP),
                                 "--text", "x"])
    assert result.exit_code != 0 and "无此小区" in result.output
    result = runner.invoke(args=["notice", "create", "--compound", "和平里", "--at", "next week", "--text", "x"])
    assert result.exit_code != 0 and "YYYY-MM-DD HH:MM" in result.output
    assert runner.invoke(args=["notice", "show", "999"]).exit_code != 0
    assert db.scalar(select(func.count()).select_from(Notice)) == 0


def test_failures_are_recorded_with_reasons_and_shown(app, db, runner, standin) -> None:  # type: ignore[no-untyped-def]
    street(db, last_inbound=CLEANUP - 7 * DAY - timedelta(hours=1))  # inside the 48-hour window
    notice_id = cli_create(runner, "--compound", "和平里", "--buildings", "1,2")
    standin.fail(43004, "message/custom/send", openid="o-和平里-1-0")
    standin.fail(43101, "message/custom/send", openid="o-和平里-1-1")
    standin.fail(45009, "message/custom/send", openid="o-和平里-2-0")  # transient: retried later
    run_once(app, CLEANUP - 7 * DAY)
    assert set(received(standin)) == {"o-和平里-2-1"}
    run_once(app, CLEANUP - 7 * DAY + timedelta(minutes=1))
    assert set(received(standin)) == {"o-和平里-2-1", "o-和平里-2-0"}
    result = runner.invoke(args=["notice", "show", str(notice_id)])
    assert "已发送：2" in result.output and "失败：2" in result.output
    assert "43004" in result.output and "43101" in result.output and "目标居民：3 户" in result.output
    listing = runner.invoke(args=["notice", "list"]).output
    assert f"#{notice_id}" in listing and "已发送 2" in listing
    attempts = {r.openid: r.attempts for r in db.scalars(select(Outbox).where(Outbox.notice_id == notice_id))}
    assert attempts["o-和平里-1-0"] == 1 and attempts["o-和平里-2-0"] == 2


def test_window_decides_custom_or_template(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    street(db, buildings=("1",), residents_per_building=2)
    db.scalars(select(Resident).where(Resident.openid == "o-和平里-1-0")).one().last_inbound_at = CLEANUP - 8 * DAY
    db.commit()
    make(db, buildings=None)
    run_once(app, CLEANUP - 7 * DAY)
    assert [r["openid"] for r in standin.sent("custom")] == ["o-和平里-1-0"]
    assert [r["openid"] for r in standin.sent("template")] == ["o-和平里-1-1"]


def test_a_residents_reply_to_a_notice_goes_through_intake(app, db, standin, wechat) -> None:  # type: ignore[no-untyped-def]
    from bot.storage.models import Case

    street(db, buildings=("1",), residents_per_building=1)
    make(db, buildings=None)
    run_once(app, CLEANUP - 7 * DAY)
    reply = wechat.send_text("自行车放哪？", openid="o-和平里-1-0")
    assert reply.status == 200 and reply.text
    assert db.scalars(select(Case).where(Case.openid == "o-和平里-1-0")).one().text == "自行车放哪？"


def test_outside_the_window_the_notice_template_is_used(app, db, standin) -> None:  # type: ignore[no-untyped-def]
    app.config["TEMPLATE_IDS"] = {"notice": "tpl-notice", "default": "tpl-default"}
    street(db, buildings=("1",), residents_per_building=1)
    make(db, buildings=None)
    run_once(app, CLEANUP - 7 * DAY)
    (sent,) = standin.sent("template")
    assert sent["body"]["template_id"] == "tpl-notice" and "请清理楼道" in sent["body"]["data"]["content"]["value"]
