"""Redis lost mid-dialogue (restarted, flushed): a report waiting for the address is kept in the database."""
from __future__ import annotations

from datetime import timedelta

import redis
from sqlalchemy import select

from bot.storage.models import PendingReport
from tests.helpers_intake import cases_of, events, street  # noqa: F401

NEW = "o-outage"
ADDRESS = "马连道南口三区5号楼2单元1501"


def _lose_redis(settings) -> None:  # type: ignore[no-untyped-def]
    redis.Redis.from_url(settings["REDIS_URL"]).flushdb()  # what a restart without persistence leaves


def _kept(db) -> list[PendingReport]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return list(db.scalars(select(PendingReport)).all())


def test_report_waiting_for_the_address_survives_losing_redis(wechat, street, settings):
    wechat.send_text("楼上漏水，天花板一直往下滴水", openid=NEW)
    wechat.send_image(openid=NEW, media_id="m-before")
    _lose_redis(settings)
    reply = wechat.send_text(ADDRESS, openid=NEW)
    [case] = cases_of(street, NEW)
    assert (case.intent, case.text) == ("leak", "楼上漏水，天花板一直往下滴水")
    assert (case.compound.name, case.building.name, case.unit, case.room) == ("马连道南口三区", "5", "2", "1501")
    assert case.number in reply.text
    assert [e.data["MediaId"] for e in events(street, case, "photo")] == ["m-before"]
    assert _kept(street) == []  # the report is a case now: nothing waits any more


def test_a_cancelled_question_is_not_revived(wechat, street, settings):
    wechat.send_text("楼上漏水了", openid=NEW)
    wechat.send_text("取消", openid=NEW)
    _lose_redis(settings)
    wechat.send_text(ADDRESS, openid=NEW)
    assert cases_of(street, NEW) == []
    assert "楼上漏水了" not in [row.data["pending"]["text"] for row in _kept(street)]


def test_a_report_older_than_the_dialogue_is_not_revived(wechat, street, settings):
    wechat.send_text("楼上漏水了", openid=NEW)
    [kept] = _kept(street)
    kept.updated_at -= timedelta(minutes=31)
    street.commit()
    _lose_redis(settings)  # as after 30 idle minutes: the dialogue is gone, and so is the question
    wechat.send_text(ADDRESS, openid=NEW)
    assert cases_of(street, NEW) == []
    assert "楼上漏水了" not in [row.data["pending"]["text"] for row in _kept(street)]
