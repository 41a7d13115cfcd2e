"""Only authentic pushes: the configured mode, a fresh timestamp (issue 17, item 1)."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot import create_app
from bot.config import ConfigError, load_config
from bot.services import services
from bot.storage.models import InboundMessage
from tests.conftest import AES_KEY, APPID, TOKEN
from tests.helpers_intake import BOUND, cases_of
from tests.wechat import WeChat

PRODUCTION = {"MULIN_ENV": "production", "WECHAT_TOKEN": TOKEN, "SECRET_KEY": "s" * 40,
              "WECHAT_APPID": APPID, "WECHAT_SECRET": "x"}


def stored(db) -> int:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(select(func.count()).select_from(InboundMessage))


@pytest.fixture
def production(settings):  # type: ignore[no-untyped-def]
    """The app as deployed: MULIN_ENV=production, safe mode (an EncodingAESKey is set)."""
    app = create_app({**settings, **PRODUCTION})
    yield app
    services(app).engine.dispose()


def test_forged_plaintext_post_is_refused_in_production(production, db) -> None:  # type: ignore[no-untyped-def]
    forger = WeChat(production.test_client(), TOKEN, APPID, AES_KEY, mode="plaintext")
    reply = forger.send_text("取消", openid="o-victim")
    assert reply.status == 403 and stored(db) == 0


def test_forged_plaintext_cannot_cancel_another_residents_case(wechat: WeChat, street) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("楼上漏水，顶棚一直滴水", openid=BOUND)
    [case] = cases_of(street, BOUND)
    assert wechat.send_text("取消", openid=BOUND, mode="plaintext").status == 403
    assert [c.status for c in cases_of(street, BOUND)] == [case.status]


def test_encrypted_push_is_answered_in_production(production, db) -> None:  # type: ignore[no-untyped-def]
    resident = WeChat(production.test_client(), TOKEN, APPID, AES_KEY, mode="safe")
    reply = resident.send_text("你好", openid="o-real")
    assert reply.status == 200 and reply.text and stored(db) == 1


def test_compatible_mode_uses_the_encrypted_copy_and_refuses_plain(production, db) -> None:  # type: ignore[no-untyped-def]
    production.config["WECHAT_MODE"] = "compatible"
    resident = WeChat(production.test_client(), TOKEN, APPID, AES_KEY, mode="compatible")
    assert resident.send_text("你好", openid="o-compat").status == 200
    assert resident.send_text("你好", openid="o-compat", mode="plaintext").status == 403
    assert stored(db) == 1


def test_plaintext_mode_works_when_the_operator_chose_it(settings, db) -> None:  # type: ignore[no-untyped-def]
    app = create_app({**settings, **PRODUCTION, "WECHAT_MODE": "plaintext"})
    reply = WeChat(app.test_client(), TOKEN, APPID, AES_KEY, mode="plaintext").send_text("你好", openid="o-plain")
    assert reply.status == 200 and reply.text
    services(app).engine.dispose()


@pytest.mark.parametrize("offset", [-30 * 60, 30 * 60, -30 * 24 * 3600])
def test_stale_or_future_timestamp_is_refused_and_not_logged(wechat: WeChat, db, caplog, offset: int) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level("DEBUG")
    ts = str(int(time.time()) + offset)
    xml = wechat.xml("o1", "text", {"Content": "取消"})
    query, body = wechat.pusher.request(xml, timestamp=ts)
    res = wechat.client.post("/wechat", query_string=query, data=body, content_type="text/xml")
    assert res.status_code == 403 and stored(db) == 0
    assert query["signature"] not in caplog.text and ts not in caplog.text
    assert "timestamp" in caplog.text


def test_timestamp_that_is_not_a_number_is_refused(wechat: WeChat) -> None:
    query, body = wechat.pusher.request(wechat.xml("o1", "text", {"Content": "x"}), timestamp="abc")
    assert wechat.client.post("/wechat", query_string=query, data=body).status_code == 403


def test_get_verification_with_old_timestamp_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    from tests.wechat import sign
    ts, nonce = "1700000000", "42"
    res = client.get("/wechat", query_string={"signature": sign(TOKEN, ts, nonce), "timestamp": ts,
                                              "nonce": nonce, "echostr": "hello"})
    assert res.status_code == 403


def test_mode_defaults_to_safe_with_a_key() -> None:
    assert load_config({**PRODUCTION, "WECHAT_AES_KEY": AES_KEY})["WECHAT_MODE"] == "safe"


def test_production_without_key_or_chosen_mode_does_not_start() -> None:
    with pytest.raises(ConfigError, match="WECHAT_MODE=plaintext"):
        load_config({**PRODUCTION, "WECHAT_AES_KEY": ""})
    assert load_config({**PRODUCTION, "WECHAT_AES_KEY": "", "WECHAT_MODE": "plaintext"})["WECHAT_MODE"] == "plaintext"


@pytest.mark.parametrize("mode,key,message", [("secure", AES_KEY, "one of"), ("safe", "short", "43-character")])
def test_bad_mode_settings_stop_start_up(mode: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({**PRODUCTION, "WECHAT_AES_KEY": key, "WECHAT_MODE": mode})
