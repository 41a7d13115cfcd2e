"""Outbound WeChat API: one client, every endpoint under WECHAT_API_BASE_URL, shared token.

The access_token lives in Redis (wechatpy's RedisStorage); one process refreshes it
under a Redis lock and every worker reads the shared copy.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, cast

import redis
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from bot.messaging import gateway_health, template_book

log = logging.getLogger(__name__)

TRANSIENT = {-1, 45009, 45011}
TOKEN_ERRORS = {40001, 40014, 42001}
PERMANENT = {43004, 43101, 45015, 45047, 47003, 40003, 40037}
TOKEN_MARGIN = 300  # refresh five minutes before WeChat's expiry
WECHAT_API = "https://api.weixin.qq.com/"
SHOWQRCODE = "https://mp.weixin.qq.com/cgi-bin/showqrcode"  # WeChat serves QR images from another host


class SendError(Exception):
    """A failed send: errcode is WeChat's (None for network/HTTP errors).

    `uncertain`: the request went out but no answer came (a read timeout), so WeChat may have delivered
    it; `token`: no access_token could be had, so nothing was sent (every send waits, none is to blame).
    """

    def __init__(self, errcode: int | None, message: str, transient: bool, *, uncertain: bool = False,
                 token: bool = False) -> None:
        super().__init__(f"{errcode}: {message}")
        self.errcode = errcode
        self.message = message[:200]
        self.transient = transient
        self.uncertain = uncertain
        self.token = token


def _token_error(errcode: int | None, message: str) -> SendError:
    return SendError(errcode, message, transient=True, token=True)


class MulinWeChatClient(WeChatClient):  # type: ignore[misc]  # wechatpy ships no type hints
    """wechatpy's client with a configurable base URL and a locked, shared token refresh."""

    def __init__(self, appid: str, secret: str, base_url: str, store: redis.Redis, timeout: float) -> None:
        super().__init__(appid, secret, session=RedisStorage(store, prefix="mulin:wechat"), timeout=timeout,
                         auto_retry=False)
        self.API_BASE_URL = base_url if base_url.endswith("/") else base_url + "/"
        self._redis = store

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        if url_or_endpoint.startswith(("http://", "https://")) and not url_or_endpoint.startswith(self.API_BASE_URL):
            raise SendError(None, "refusing a URL outside WECHAT_API_BASE_URL", transient=False)
        return super()._request(method, url_or_endpoint, **kwargs)

    def fetch_access_token(self) -> dict[str, Any]:
        """Fetch a token unless another worker already replaced the one we saw.

        A refusal (or no answer) is a SendError with token=True, remembered in Redis with a backoff
        (bot.messaging.gateway_health) so no process asks again before then.
        """
        seen = self.session.get(self.access_token_key)
        with self._redis.lock("mulin:lock:access_token", timeout=30, blocking_timeout=15):
            current = self.session.get(self.access_token_key)
            if current and current != seen:
                return {"access_token": current}
            if gateway_health.backing_off(self._redis):
                raise _token_error(None, "token endpoint refused recently; waiting before asking again")
            result = self._ask_for_token()
            expires_in = int(result.get("expires_in", 7200))
            self.session.set(self.access_token_key, result["access_token"], max(expires_in - TOKEN_MARGIN, 60))
            self.expires_at = None  # trust the Redis TTL, like every other worker
            gateway_health.record_success(self._redis)
            log.info("fetched a new access_token")
            return result

    def _ask_for_token(self) -> dict[str, Any]:
        """One request to the token endpoint; a refusal is recorded for the console and backed off."""
        try:
            res = self._http.get(
                self.API_BASE_URL + "token", timeout=self.timeout,
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )
            res.raise_for_status()
            result: dict[str, Any] = res.json()
            errcode, errmsg = result.get("errcode"), str(result.get("errmsg", ""))
            if not errcode and not result.get("access_token"):
                errcode, errmsg = None, "no access_token in the answer"
        except (requests.RequestException, ValueError) as exc:
            errcode, errmsg = None, type(exc).__name__
        else:
            if not errcode:
                return result
        retry_at = gateway_health.record_failure(self._redis, int(errcode) if errcode else None, errmsg)
        log.error("WeChat's token endpoint refused (errcode %s); no message can be sent; asking again in %.0f s",
                  errcode, retry_at - time.time())
        raise _token_error(int(errcode) if errcode else None, errmsg)


class Gateway:
    """The sends Mulin makes, with WeChat's errors mapped to transient or permanent."""

    def __init__(self, client: MulinWeChatClient, templates: template_book.TemplateBook | None = None,
                 context: dict[str, Any] | None = None,
                 subscriptions: template_book.TemplateBook | None = None) -> None:
        self.client = client
        self.templates = templates or template_book.TemplateBook()  # template messages' fields per purpose
        self.subscriptions = subscriptions or template_book.TemplateBook()  # subscription notices' (no shortcut)
        self.context = context or {}  # what every template field may use: street, contact, base_url

    def backing_off(self) -> bool:
        """Whether the token endpoint refused recently: then sends wait instead of failing one by one."""
        try:
            return gateway_health.backing_off(self.client._redis)
        except redis.RedisError:
            return False  # the send itself will meet the outage and be retried

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            try:
                return cast(dict[str, Any], fn(*args, **kwargs))
            except WeChatClientException as exc:
                if exc.errcode is None or int(exc.errcode) not in TOKEN_ERRORS:
                    raise
                log.info("access_token rejected (%s): refreshing once", exc.errcode)
                self.client.fetch_access_token()
                return cast(dict[str, Any], fn(*args, **kwargs))
        except WeChatClientException as exc:
            code = exc.errcode
            if code is None:
                raise SendError(None, "HTTP error", transient=True) from exc
            code = int(code)
            transient = code in TRANSIENT or code in TOKEN_ERRORS
            raise SendError(code, str(exc.errmsg or ""), transient=transient) from exc
        except requests.ReadTimeout as exc:
            # the request reached WeChat (or its network) and no answer came: it may have been delivered
            raise SendError(None, type(exc).__name__, transient=False, uncertain=True) from exc
        except (requests.RequestException, redis.RedisError, ValueError) as exc:
            raise SendError(None, type(exc).__name__, transient=True) from exc

    def send_text(self, openid: str, text: str) -> dict[str, Any]:
        """A customer-service text message (only inside the 48-hour window)."""
        return self._call(self.client.message.send_text, openid, text)

    def send_subscription(self, openid: str, template_id: str, data: dict[str, Any],
                          page: str | None = None) -> dict[str, Any]:
        """A subscription notice (订阅通知, message/subscribe/bizsend), to a resident who accepted the template."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if page:
            body["page"] = page
        return self._call(self.client.post, "message/subscribe/bizsend", data=body)

    def send_template(self, openid: str, template_id: str, data: dict[str, Any],
                      url: str | None = None) -> dict[str, Any]:
        """A template message (outside the window)."""
        return self._call(self.client.message.send_template, openid, template_id, data, url)

    def get_media(self, media_id: str) -> tuple[bytes, str]:
        """A resident's temporary media (media/get, valid 3 days): its bytes and Content-Type."""
        answer: Any = self._call(self.client.media.download, media_id)
        if isinstance(answer, dict) and answer.get("video_url"):  # a video: WeChat answers where to download it
            answer = self._video(str(answer["video_url"]))
        if isinstance(answer, dict):  # JSON without an errcode: not a file
            raise SendError(None, "media/get answered no file", transient=True)
        content_type = str(answer.headers.get("Content-Type", "")).split(";")[0].strip()
        return bytes(answer.content), content_type or "application/octet-stream"

    def _video(self, url: str) -> Any:
        """A video's file from the download URL media/get gave (no access_token: the URL is the permission)."""
        try:
            res = self.client._http.get(url, timeout=self.client.timeout)
        except requests.RequestException as exc:
            raise SendError(None, type(exc).__name__, transient=True) from exc
        if res.status_code != 200:
            raise SendError(None, f"video download answered HTTP {res.status_code}", transient=res.status_code >= 500)
        return res

    def create_qr(self, scene: str) -> dict[str, Any]:
        """A permanent parameter QR code (QR_LIMIT_STR_SCENE) for a scene string: its ticket and url."""
        data = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        return self._call(self.client.qrcode.create, data)

    def create_temp_qr(self, scene: str, seconds: int) -> dict[str, Any]:
        """A temporary parameter QR code (QR_STR_SCENE, at most 30 days) for a scene string: ticket and url."""
        data = {"expire_seconds": max(60, min(seconds, 2_592_000)), "action_name": "QR_STR_SCENE",
                "action_info": {"scene": {"scene_str": scene}}}
        return self._call(self.client.qrcode.create, data)

    def qr_image(self, ticket: str) -> bytes:
        """The image of a QR code ticket (showqrcode needs no access_token)."""
        try:
            res = self.client._http.get(showqrcode_url(self.client.API_BASE_URL), params={"ticket": ticket},
                                        timeout=self.client.timeout)
        except requests.RequestException as exc:
            raise SendError(None, type(exc).__name__, transient=True) from exc
        if res.status_code != 200 or not res.headers.get("Content-Type", "").startswith("image/"):
            raise SendError(None, f"showqrcode answered HTTP {res.status_code}", transient=res.status_code >= 500)
        return cast(bytes, res.content)

    def create_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        """Replace the account's custom menu (menu/create)."""
        return self._call(self.client.menu.create, menu)


def showqrcode_url(api_base: str) -> str:
    """Where QR images are: WeChat's own host for the real API, the same base for a stand-in."""
    return SHOWQRCODE if api_base.startswith(WECHAT_API) else api_base + "showqrcode"


def make_gateway(config: dict[str, Any], store: redis.Redis) -> Gateway:
    """Build the gateway from settings (no network I/O here); TemplateFileError for a bad templates file."""
    client = MulinWeChatClient(
        config["WECHAT_APPID"], config["WECHAT_SECRET"], config["WECHAT_API_BASE_URL"],
        store, timeout=float(config["WECHAT_HTTP_TIMEOUT"]),
    )
    path = config.get("WECHAT_TEMPLATES_PATH")
    book = template_book.load(config.get("TEMPLATE_IDS") or {}, Path(path) if path else template_book.PATH)
    context = {"street": config.get("STREET_NAME", ""), "contact": config.get("STREET_CONTACT", ""),
               "base_url": str(config.get("PUBLIC_BASE_URL") or "").rstrip("/")}
    path = config.get("WECHAT_SUBSCRIPTIONS_PATH")
    notices = template_book.load({}, Path(path) if path else template_book.SUBSCRIPTIONS_PATH)
    return Gateway(client, book, context, notices)

