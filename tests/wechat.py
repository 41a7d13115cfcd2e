"""A stand-in for WeChat's servers pushing to our webhook: signed, optionally encrypted."""
from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import xmltodict
from flask.testing import FlaskClient
from wechatpy.crypto import WeChatCrypto

_ids = itertools.count(int(time.time() * 1000))


def sign(*parts: str) -> str:
    """WeChat's SHA1 over the sorted parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


@dataclass
class Reply:
    """What the webhook answered, decrypted and parsed."""

    status: int
    body: str
    xml: dict[str, Any] | None

    @property
    def text(self) -> str | None:
        """The text of a text reply; None for 'success' or an empty body."""
        return self.xml.get("Content") if self.xml else None


class WeChat:
    """Pushes messages to /wechat the way WeChat's servers do."""

    def __init__(self, client: FlaskClient, token: str, appid: str, aes_key: str, mode: str = "plain") -> None:
        self.client = client
        self.token = token
        self.appid = appid
        self.crypto = WeChatCrypto(token, aes_key, appid)
        self.mode = mode  # plain | compat | safe
        self.account = "gh_mulin"

    def xml(self, openid: str, msg_type: str, fields: dict[str, Any], create_time: int | None = None,
            msg_id: int | None = None) -> str:
        """The XML WeChat would push."""
        parts = [f"<ToUserName><![CDATA[{self.account}]]></ToUserName>",
                 f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
                 f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
                 f"<MsgType><![CDATA[{msg_type}]]></MsgType>"]
        parts += [f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items()]
        if msg_type != "event":
            parts.append(f"<MsgId>{msg_id or next(_ids)}</MsgId>")
        return "<xml>" + "".join(parts) + "</xml>"

    def post(self, body: str | bytes, mode: str | None = None, **query_overrides: str) -> Reply:
        """POST a body (XML) signed like WeChat, encrypting it in compat/safe mode."""
        mode = mode or self.mode
        timestamp, nonce = str(int(time.time())), str(next(_ids))
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce, "openid": "x"}
        data = body.encode("utf-8") if isinstance(body, str) else body
        if mode in ("compat", "safe"):
            encrypted = xmltodict.parse(self.crypto.encrypt_message(data.decode("utf-8"), nonce, timestamp))["xml"]
            query.update(encrypt_type="aes", msg_signature=encrypted["MsgSignature"])
            inner = data.decode("utf-8")[len("<xml>"):-len("</xml>")] if mode == "compat" else ""
            data = f"<xml>{inner}<Encrypt><![CDATA[{encrypted['Encrypt']}]]></Encrypt></xml>".encode("utf-8")
        query.update(query_overrides)
        res = self.client.post("/wechat", query_string=query, data=data, content_type="text/xml")
        return self._reply(res.status_code, res.get_data(as_text=True), query, mode)

    def _reply(self, status: int, body: str, query: dict[str, str], mode: str) -> Reply:
        if status != 200 or not body.startswith("<xml>"):
            return Reply(status, body, None)
        if mode in ("compat", "safe"):
            outer = xmltodict.parse(body)["xml"]
            plain = self.crypto.decrypt_message(body, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
            return Reply(status, plain, xmltodict.parse(plain)["xml"])
        return Reply(status, body, xmltodict.parse(body)["xml"])

    def send_text(self, text: str, openid: str = "o1", **kw: Any) -> Reply:
        """A text message."""
        msg_id = kw.pop("msg_id", None)
        return self.post(self.xml(openid, "text", {"Content": text}, msg_id=msg_id), **kw)

    def send(self, msg_type: str, fields: dict[str, Any], openid: str = "o1", **kw: Any) -> Reply:
        """Any message type with its fields."""
        msg_id = kw.pop("msg_id", None)
        create_time = kw.pop("create_time", None)
        return self.post(self.xml(openid, msg_type, fields, create_time, msg_id), **kw)

    def event(self, event: str, openid: str = "o1", create_time: int | None = None, **fields: Any) -> Reply:
        """An event push."""
        return self.post(self.xml(openid, "event", {"Event": event, **fields}, create_time))

    def send_image(self, openid: str = "o1", media_id: str = "media-1", **kw: Any) -> Reply:
        """An image message."""
        return self.send("image", {"PicUrl": f"http://mmbiz.example/{media_id}.jpg", "MediaId": media_id}, openid, **kw)
