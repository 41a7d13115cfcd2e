"""The /wechat webhook: signatures, modes, every message type, retries, bad input, Redis down."""
from __future__ import annotations

import threading
import time

import pytest
import redis
from sqlalchemy import func, select

from bot.services import services
from bot.storage.models import InboundMessage, Resident
from tests.conftest import TOKEN
from tests.wechat import WeChat, sign


def count_messages(db) -> int:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(select(func.count()).select_from(InboundMessage))


def test_get_verification_echoes(client) -> None:  # type: ignore[no-untyped-def]
    ts, nonce = str(int(time.time())), "42"
    res = client.get("/wechat", query_string={"signature": sign(TOKEN, ts, nonce), "timestamp": ts,
                                              "nonce": nonce, "echostr": "hello123"})
    assert res.status_code == 200 and res.get_data(as_text=True) == "hello123"


def test_get_bad_signature_is_403(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/wechat", query_string={"signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "x"})
    assert res.status_code == 403


@pytest.mark.parametrize("missing", ["signature", "timestamp", "nonce", "echostr"])
def test_get_missing_parameter_is_400(client, missing: str) -> None:  # type: ignore[no-untyped-def]
    q = {"signature": sign(TOKEN, "1", "2"), "timestamp": "1", "nonce": "2", "echostr": "x"}
    q.pop(missing)
    assert client.get("/wechat", query_string=q).status_code == 400


@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
def test_text_gets_acknowledged_in_every_mode(app, wechat: WeChat, db, mode: str) -> None:  # type: ignore[no-untyped-def]
    app.config["WECHAT_MODE"] = mode  # as the operator set it, and the account on WeChat's side
    reply = wechat.send_text("你好，请问社区几点上班", openid="o-mode", mode=mode)
    assert reply.status == 200
    assert reply.text and reply.xml["MsgType"] == "text"
    assert reply.xml["ToUserName"] == "o-mode"
    stored = db.scalars(select(InboundMessage)).one()
    assert stored.openid == "o-mode" and stored.content == "你好，请问社区几点上班" and stored.status == "handled"


def test_safe_mode_reply_is_encrypted(wechat: WeChat) -> None:
    reply = wechat.send_text("在吗", mode="safe")
    assert reply.status == 200 and "<Encrypt>" in reply.body and reply.text  # decrypted by the helper
    ts, nonce = str(int(time.time())), "77"
    xml = wechat.xml("o1", "text", {"Content": "在吗"})
    encrypted = wechat.crypto.encrypt_message(xml, nonce, ts)
    import xmltodict
    outer = xmltodict.parse(encrypted)["xml"]
    res = wechat.client.post("/wechat", data=f"<xml><Encrypt><![CDATA[{outer['Encrypt']}]]></Encrypt></xml>",
                             query_string={"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
                                           "encrypt_type": "aes", "msg_signature": outer["MsgSignature"]})
    body = res.get_data(as_text=True)
    assert "<Encrypt>" in body and "在吗" not in body


def test_wrong_msg_signature_is_403(wechat: WeChat) -> None:
    reply = wechat.post(wechat.xml("o1", "text", {"Content": "x"}), mode="safe", msg_signature="0" * 40)
    assert reply.status == 403


def test_msg_signature_must_not_be_the_plain_signature(wechat: WeChat) -> None:
    ts, nonce = str(int(time.time())), "5"
    reply = wechat.post(wechat.xml("o1", "text", {"Content": "x"}), mode="safe",
                        timestamp=ts, nonce=nonce, signature=sign(TOKEN, ts, nonce), msg_signature=sign(TOKEN, ts, nonce))
    assert reply.status == 403


def test_wrong_appid_is_403(client, db) -> None:  # type: ignore[no-untyped-def]
    other = WeChat(client, TOKEN, "wxSOMEONEELSE000", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
    assert other.send_text("x", mode="safe").status == 403
    assert count_messages(db) == 0


def test_post_bad_signature_is_403(wechat: WeChat) -> None:
    assert wechat.post(wechat.xml("o1", "text", {"Content": "x"}), signature="f" * 40).status == 403


@pytest.mark.parametrize("msg_type,fields", [
    ("image", {"PicUrl": "http://x/y.jpg", "MediaId": "m1"}),
    ("voice", {"MediaId": "m2", "Format": "amr"}),
    ("video", {"MediaId": "m3", "ThumbMediaId": "t3"}),
    ("shortvideo", {"MediaId": "m4", "ThumbMediaId": "t4"}),
    ("location", {"Location_X": "39.89", "Location_Y": "116.33", "Scale": "15", "Label": "马连道"}),
    ("link", {"Title": "t", "Description": "d", "Url": "http://x"}),
])
def test_every_message_type_is_accepted_and_stored(wechat: WeChat, db, msg_type: str, fields: dict) -> None:  # type: ignore[no-untyped-def]
    reply = wechat.send(msg_type, fields, openid="o-types")
    assert reply.status == 200
    row = db.scalars(select(InboundMessage)).one()
    assert row.msg_type == msg_type and row.status == "handled"


def test_voice_recognition_is_treated_as_text(wechat: WeChat, db) -> None:  # type: ignore[no-untyped-def]
    spoken = wechat.send("voice", {"MediaId": "m", "Format": "amr", "Recognition": "请问几点开门"}, openid="o-v1")
    typed = wechat.send_text("请问几点开门", openid="o-v2")
    assert spoken.text == typed.text
    assert db.scalars(select(InboundMessage).where(InboundMessage.openid == "o-v1")).one().content == "请问几点开门"


def test_voice_without_recognition_is_not_text(wechat: WeChat, db) -> None:  # type: ignore[no-untyped-def]
    reply = wechat.send("voice", {"MediaId": "m", "Format": "amr", "Recognition": ""})
    assert reply.status == 200
    assert db.scalars(select(InboundMessage)).one().content is None


@pytest.mark.parametrize("event,fields", [
    ("unsubscribe", {}), ("SCAN", {"EventKey": "123", "Ticket": "t"}),
    ("LOCATION", {"Latitude": "39.9", "Longitude": "116.3", "Precision": "30"}),
    ("CLICK", {"EventKey": "MENU_HELP"}), ("VIEW", {"EventKey": "http://x"}),
    ("TEMPLATESENDJOBFINISH", {"MsgID": "200163836", "Status": "success"}),
    ("MASSSENDJOBFINISH", {"MsgID": "1000001625", "Status": "send success", "TotalCount": "100",
                           "FilterCount": "100", "SentCount": "99", "ErrorCount": "1"}),
    ("subscribe_msg_popup_event", {}), ("SOMETHING_NEW", {}),
])
def test_every_event_is_accepted(wechat: WeChat, db, event: str, fields: dict) -> None:  # type: ignore[no-untyped-def]
    reply = wechat.event(event, openid="o-ev", **fields)
    assert reply.status == 200
    assert db.scalars(select(InboundMessage)).one().event == event.lower()


def test_subscribe_gets_welcome_and_unsubscribe_is_recorded(wechat: WeChat, db) -> None:  # type: ignore[no-untyped-def]
    assert "欢迎" in wechat.event("subscribe", openid="o-sub").text
    assert wechat.event("unsubscribe", openid="o-sub", create_time=int(time.time()) + 5).body == "success"
    db.expire_all()
    assert db.scalars(select(Resident).where(Resident.openid == "o-sub")).one().subscribed is False


def test_unknown_message_type_answers_success(wechat: WeChat) -> None:
    reply = wechat.send("miniprogrampage", {"Title": "x"})
    assert reply.status == 200 and reply.body == "success"


def test_retry_gets_same_reply_and_is_stored_once(wechat: WeChat, db) -> None:  # type: ignore[no-untyped-def]
    first = wechat.send_text("第一次", msg_id=555)
    again = wechat.send_text("第一次", msg_id=555)
    assert first.text == again.text
    assert count_messages(db) == 1


def test_same_msgid_from_two_residents_are_two_messages(wechat: WeChat, db) -> None:  # type: ignore[no-untyped-def]
    wechat.send_text("a", openid="o-a", msg_id=777)
    wechat.send_text("b", openid="o-b", msg_id=777)
    assert count_messages(db) == 2


def test_event_retry_is_deduplicated_by_sender_and_time(wechat: WeChat, db) -> None:  # type: ignore[no-untyped-def]
    t = int(time.time())
    a = wechat.event("subscribe", openid="o-e", create_time=t)
    b = wechat.event("subscribe", openid="o-e", create_time=t)
    assert a.text == b.text and count_messages(db) == 1


def test_concurrent_retries_are_handled_once(app, db) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    original = services(app).handler

    def slow(session, msg, now):  # type: ignore[no-untyped-def]
        calls.append(msg.dedup_key)
        time.sleep(0.3)
        return original(session, msg, now)

    services(app).handler = slow
    from tests.conftest import AES_KEY, APPID
    replies: list[str | None] = []
    xml = WeChat(app.test_client(), TOKEN, APPID, AES_KEY).xml("o-c", "text", {"Content": "同时到达"}, msg_id=999)

    def push() -> None:
        replies.append(WeChat(app.test_client(), TOKEN, APPID, AES_KEY).post(xml).text)

    threads = [threading.Thread(target=push) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(replies) == 3 and len(set(replies)) == 1 and replies[0]
    assert count_messages(db) == 1


def test_crash_before_reply_is_handled_on_retry(app, wechat: WeChat, db) -> None:  # type: ignore[no-untyped-def]
    """A worker that died after storing leaves the row claimed; the retry after the lease handles it."""
    from datetime import timedelta

    from bot.clock import utcnow
    from bot.messaging import inbound
    xml = wechat.xml("o-crash", "text", {"Content": "崩溃前"}, msg_id=4242)
    from wechatpy import parse_message
    msg = inbound.from_wechat(parse_message(xml))
    row, first = inbound.store(db, msg, utcnow() - timedelta(seconds=10))  # stored, then the worker died
    assert first and row.status == "received"
    reply = wechat.post(xml)
    assert reply.text
    db.expire_all()
    stored = db.get(InboundMessage, row.id)
    assert stored.status == "handled" and stored.reply == reply.text


def test_handler_error_keeps_message_and_answers_politely(app, wechat: WeChat, db) -> None:  # type: ignore[no-untyped-def]
    def broken(session, msg, now):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    services(app).handler = broken
    reply = wechat.send_text("会出错的消息", openid="o-err")
    assert reply.status == 200 and "抱歉" in reply.text
    row = db.scalars(select(InboundMessage)).one()
    assert row.content == "会出错的消息" and row.status == "failed" and row.error == "RuntimeError"


BOMB = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><xml><ToUserName>x</ToUserName><FromUserName>o</FromUserName>'
        '<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&c;</Content><MsgId>1</MsgId></xml>')
XXE = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><ToUserName>x</ToUserName>'
       '<FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&e;</Content>'
       '<MsgId>1</MsgId></xml>')


@pytest.mark.parametrize("body", ["this is not xml", "<xml><ToUserName>x</ToUserName>", BOMB, XXE, "", "<xml></xml>",
                                  "<xml><MsgType>text</MsgType></xml>"])
def test_bad_bodies_are_400(wechat: WeChat, db, body: str, caplog) -> None:  # type: ignore[no-untyped-def]
    assert wechat.post(body).status == 400
    assert count_messages(db) == 0
    assert "passwd" not in caplog.text


def test_bad_encrypted_body_is_400(wechat: WeChat) -> None:
    ts, nonce = str(int(time.time())), "9"
    enc = "not-base64!!"
    res = wechat.client.post("/wechat", data=f"<xml><Encrypt>{enc}</Encrypt></xml>", query_string={
        "signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
        "msg_signature": sign(TOKEN, ts, nonce, enc)})
    assert res.status_code == 400


def test_oversized_body_is_413(wechat: WeChat, db) -> None:  # type: ignore[no-untyped-def]
    reply = wechat.send_text("漏" * 100_000)
    assert reply.status == 413 and count_messages(db) == 0


def test_post_missing_parameters_is_400(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/wechat", data="<xml/>").status_code == 400


def test_logs_carry_no_message_text(wechat: WeChat, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level("DEBUG")
    wechat.send_text("我的电话是13912345678，住5号楼2单元1501")
    assert "13912345678" not in caplog.text and "1501" not in caplog.text


def test_redis_down_still_answers_and_stores(settings, db) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    from tests.conftest import AES_KEY, APPID
    down = create_app({**settings, "REDIS_URL": "redis://127.0.0.1:1/0"})

    def needs_redis(session, msg, now):  # type: ignore[no-untyped-def]
        services(down).redis.get("dialogue")
        return "never"

    services(down).handler = needs_redis
    started = time.monotonic()
    reply = WeChat(down.test_client(), TOKEN, APPID, AES_KEY).send_text("redis 挂了", openid="o-down")
    assert time.monotonic() - started < 4.5
    assert reply.status == 200 and "系统繁忙" in reply.text
    row = db.scalars(select(InboundMessage)).one()
    assert row.content == "redis 挂了" and row.status == "received"
    with pytest.raises(redis.ConnectionError):
        services(down).redis.ping()


def test_message_stored_while_redis_was_down_is_handled_later(settings, app, db, standin) -> None:  # type: ignore[no-untyped-def]
    """The scheduler replays stranded messages once Redis is back; the answer goes out through the outbox."""
    from datetime import timedelta

    from bot import create_app
    from bot.clock import utcnow
    from bot.storage.models import Outbox
    from scheduler.jobs import drain_outbox, replay_inbound
    from tests.conftest import AES_KEY, APPID
    down = create_app({**settings, "REDIS_URL": "redis://127.0.0.1:1/0"})
    WeChat(down.test_client(), TOKEN, APPID, AES_KEY).send_text("请问社区几点上班", openid="o-later")
    assert replay_inbound(app, utcnow())["replayed"] == 0  # too fresh: WeChat may still retry
    later = utcnow() + timedelta(minutes=2)
    assert replay_inbound(app, later)["replayed"] == 1
    row = db.scalars(select(InboundMessage)).one()
    db.refresh(row)
    assert row.status == "handled" and row.reply
    assert db.scalars(select(Outbox).where(Outbox.openid == "o-later")).one().payload["text"] == row.reply
    drain_outbox(app, later)
    assert [r["openid"] for r in standin.sent()] == ["o-later"]
    assert replay_inbound(app, later)["replayed"] == 0


def test_dialogue_state_is_not_saved_when_the_message_fails(app, wechat: WeChat) -> None:  # type: ignore[no-untyped-def]
    """Redis may not get ahead of the database: a rolled-back message leaves the dialogue as it was."""
    store, original = services(app).redis, services(app).handler

    def fails_after_the_dialogue(session, msg, now):  # type: ignore[no-untyped-def]
        original(session, msg, now)
        raise RuntimeError("crash after the dialogue step")

    services(app).handler = fails_after_the_dialogue
    assert "抱歉" in wechat.send_text("楼上漏水了", openid="o-unbound").text
    assert store.get("mulin:dialogue:o-unbound") is None
    services(app).handler = original
    wechat.send_text("楼上漏水了", openid="o-unbound")
    assert store.get("mulin:dialogue:o-unbound") is not None  # now asking for the address


@pytest.mark.parametrize("create_time", ["abc", "1.5", "-5", str(10**14), str(10**19), "１２３"])
def test_malformed_create_time_is_400(wechat: WeChat, db, create_time: str) -> None:  # type: ignore[no-untyped-def]
    reply = wechat.post(wechat.xml("o-ct", "text", {"Content": "楼上漏水"}, create_time=create_time))  # type: ignore[arg-type]
    assert reply.status == 400
    assert count_messages(db) == 0


def test_create_time_of_a_real_push_is_kept(wechat: WeChat, db) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime
    assert wechat.post(wechat.xml("o-ct", "text", {"Content": "在吗"}, create_time=1764547200)).status == 200
    assert db.scalars(select(InboundMessage)).one().sent_at == datetime(2025, 12, 1)


@pytest.mark.parametrize("openid,status", [("o" * 64, 200), ("o" * 65, 400), ("o" * 10_000, 400)])
def test_over_long_openid_is_400(wechat: WeChat, db, openid: str, status: int) -> None:  # type: ignore[no-untyped-def]
    assert wechat.send_text("在吗", openid=openid).status == status
    assert count_messages(db) == (1 if status == 200 else 0)


@pytest.mark.parametrize("msg_type,fields", [
    ("x" * 33, {}),
    ("event", {"Event": "e" * 65}),
    ("image", {"PicUrl": "http://x/y.jpg", "MediaId": "m" * 257}),
])
def test_over_long_fields_are_400(wechat: WeChat, db, msg_type: str, fields: dict) -> None:  # type: ignore[no-untyped-def]
    assert wechat.send(msg_type, fields, openid="o-long").status == 400
    assert count_messages(db) == 0


def test_over_long_input_is_400_on_the_burst_path_too(settings, db) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    from tests.conftest import AES_KEY, APPID
    busy = create_app({**settings, "INLINE_BUSY_LIMIT": 0.0})
    pusher = WeChat(busy.test_client(), TOKEN, APPID, AES_KEY)
    assert pusher.send_text("在吗", openid="o" * 10_000).status == 400
    assert pusher.post(pusher.xml("o-ct", "text", {"Content": "x"}, create_time="abc")).status == 400  # type: ignore[arg-type]
    assert count_messages(db) == 0
    services(busy).engine.dispose()
