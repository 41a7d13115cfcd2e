"""Residents' stored messages are deleted after INBOUND_RETENTION_DAYS; cases keep what staff need."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import utcnow
from bot.storage.models import Case, CaseEvent, InboundMessage
from scheduler.runner import run_once
from tests.helpers_intake import BOUND, street  # noqa: F401


def _messages(db, openid: str) -> list[InboundMessage]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return list(db.scalars(select(InboundMessage).where(InboundMessage.openid == openid)))


def test_old_messages_are_deleted_and_the_case_keeps_its_description(app, street, wechat) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    reply = wechat.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND)
    wechat.send_image(openid=BOUND, media_id="photo-1")
    [case] = street.scalars(select(Case).where(Case.openid == BOUND)).all()
    assert case.number in reply.text and len(_messages(street, BOUND)) == 2
    assert run_once(app, utcnow() + timedelta(days=179))["inbound_retention"] == {"deleted": 0}
    assert len(_messages(street, BOUND)) == 2
    assert run_once(app, utcnow() + timedelta(days=181))["inbound_retention"] == {"deleted": 2}
    assert _messages(street, BOUND) == []
    street.expire_all()
    kept = street.get(Case, case.id)
    assert kept.text == "楼上漏水，天花板一直往下滴水"
    assert street.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()


def test_unanswered_messages_are_kept_however_old(app, db) -> None:  # type: ignore[no-untyped-def]
    from bot.messaging import inbound
    old = utcnow() - timedelta(days=400)
    for n, status in enumerate(("queued", "received", "handled")):
        db.add(InboundMessage(dedup_key=f"o-r:{n}", openid="o-r", msg_type="text", content="在吗", raw={},
                              sent_at=old, received_at=old, status=status))
    db.commit()
    assert inbound.UNANSWERED == ("queued", "received")
    from scheduler import retention_jobs
    assert retention_jobs.run(app, utcnow()) == {"deleted": 1}
    assert sorted(m.status for m in _messages(db, "o-r")) == ["queued", "received"]


def test_retention_is_configurable_and_zero_keeps_for_ever(settings) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    from bot.services import services
    from scheduler import retention_jobs
    keep = create_app({**settings, "INBOUND_RETENTION_DAYS": 0})
    short = create_app({**settings, "INBOUND_RETENTION_DAYS": 7})
    with services(keep).sessions() as session:
        session.add(InboundMessage(dedup_key="o-k:1", openid="o-k", msg_type="text", content="x", raw={},
                                   sent_at=utcnow(), received_at=utcnow() - timedelta(days=30), status="handled"))
        session.commit()
    assert retention_jobs.run(keep, utcnow()) == {"deleted": 0}
    assert retention_jobs.run(short, utcnow()) == {"deleted": 1}
    for application in (keep, short):
        services(application).engine.dispose()


def test_retention_days_come_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.config import DEFAULTS, load_config
    assert DEFAULTS["INBOUND_RETENTION_DAYS"] == 180
    monkeypatch.setenv("INBOUND_RETENTION_DAYS", "90")
    assert load_config({"WECHAT_MODE": "plaintext"})["INBOUND_RETENTION_DAYS"] == 90
