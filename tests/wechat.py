"""A stand-in for WeChat's servers pushing to our webhook: signed, encrypted in safe/compatible mode."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from bot.devtools.wechat_push import Pusher, message_xml, sign

__all__ = ["Reply", "WeChat", "sign"]


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
    """Pushes messages to /wechat the way WeChat's servers do (safe mode unless told otherwise)."""

    def __init__(self, client: FlaskClient, token: str, appid: str, aes_key: str, mode: str = "safe") -> None:
        self.client = client
        self.token = token
        self.pusher = Pusher(token, appid, aes_key, mode)
        self.crypto = self.pusher._crypto()
        self.mode = mode
        self.account = "gh_mulin"

    def xml(self, openid: str, msg_type: str, fields: dict[str, Any], create_time: int | None = None,
            msg_id: int | None = None) -> str:
        """The XML WeChat would push."""
        return message_xml(openid, msg_type, fields, create_time, msg_id, self.account)

    def post(self, body: str | bytes, mode: str | None = None, **query_overrides: str) -> Reply:
        """POST a body (XML) signed like WeChat, encrypting it in compatible/safe mode."""
        xml = body.decode("utf-8") if isinstance(body, bytes) else body
        query, data = self.pusher.request(xml, mode=mode)
        query.update(openid="x", **query_overrides)
        res = self.client.post("/wechat", query_string=query, data=data, content_type="text/xml")
        text = res.get_data(as_text=True)
        fields = self.pusher.open_reply(text) if res.status_code == 200 else None
        return Reply(res.status_code, text, fields)

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
