"""Messages as WeChat's servers push them: the XML, the URL signature, the encryption.

One home for how a push is built, shared by the console's simulator, the tests and the benches.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import xmltodict
from wechatpy.crypto import WeChatCrypto

from bot.config import ENCRYPTED_MODES


def _new_msg_id() -> int:
    """A MsgId no other process makes: the web workers forked from one preloaded app shared a counter's start,
    so the simulator's messages from two workers had the same MsgId and the second was taken for a retry of the
    first (its reply given again, the message lost). 62 random bits, as unique as WeChat's."""
    return secrets.randbits(62)



def sign(*parts: str) -> str:
    """WeChat's SHA1 over the sorted parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def message_xml(openid: str, msg_type: str, fields: dict[str, Any], create_time: int | None = None,
                msg_id: int | None = None, account: str = "gh_mulin") -> str:
    """The XML WeChat would push for one message or event (events carry no MsgId)."""
    parts = [f"<ToUserName><![CDATA[{escape(account)}]]></ToUserName>",
             f"<FromUserName><![CDATA[{escape(openid)}]]></FromUserName>",
             f"<CreateTime>{int(time.time()) if create_time is None else create_time}</CreateTime>",
             f"<MsgType><![CDATA[{msg_type}]]></MsgType>"]
    parts += [f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items()]
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id or _new_msg_id()}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def receipt_xml(openid: str, kind: str, msg_id: object, status: str = "success", template_id: str | None = None,
                create_time: int | None = None, account: str = "gh_mulin") -> str:
    """The delivery receipt WeChat pushes for a sent template message (kind "template": TEMPLATESENDJOBFINISH)
    or subscription notice ("subscribe": subscribe_msg_sent_event, one <List> item)."""
    if kind == "template":
        return message_xml(openid, "event", {"Event": "TEMPLATESENDJOBFINISH", "MsgID": msg_id, "Status": status},
                           create_time, account=account)
    code = 0 if status == "success" else 43101 if "user block" in status else 43107
    item = (f"<List><TemplateId>{escape(template_id or '')}</TemplateId><MsgID>{msg_id}</MsgID>"
            f"<ErrorCode>{code}</ErrorCode><ErrorStatus>{escape(status)}</ErrorStatus></List>")
    xml = message_xml(openid, "event", {"Event": "subscribe_msg_sent_event"}, create_time, account=account)
    return xml[:-len("</xml>")] + f"<SubscribeMsgSentEvent>{item}</SubscribeMsgSentEvent></xml>"


@dataclass(frozen=True)
class Pusher:
    """Signs (and in safe/compatible mode encrypts) a push for /wechat, and opens the reply."""

    token: str
    appid: str
    aes_key: str
    mode: str = "safe"  # safe | compatible | plaintext, as in WECHAT_MODE

    def request(self, xml: str, timestamp: str | None = None, nonce: str | None = None,
                mode: str | None = None) -> tuple[dict[str, str], bytes]:
        """The query string and body WeChat would send for this XML."""
        mode = mode or self.mode
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(_new_msg_id())
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        if mode not in ENCRYPTED_MODES:
            return query, xml.encode("utf-8")
        envelope = xmltodict.parse(self._crypto().encrypt_message(xml, nonce, timestamp))["xml"]
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        inner = xml[len("<xml>"):-len("</xml>")] if mode == "compatible" else ""
        return query, f"<xml>{inner}<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>".encode()

    def open_reply(self, body: str) -> dict[str, Any] | None:
        """The reply's fields (decrypted when it came encrypted); None for `success` or an empty body."""
        if not body.startswith("<xml>"):
            return None
        outer = xmltodict.parse(body)["xml"]
        if "Encrypt" in outer:
            body = self._crypto().decrypt_message(body, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
            outer = xmltodict.parse(body)["xml"]
        return dict(outer)

    def _crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.aes_key, self.appid)
