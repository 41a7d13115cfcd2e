"""The /wechat endpoint: verify, decrypt, parse, store and de-duplicate, dispatch, render."""
from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Flask, Request, Response, abort, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.clock import utcnow
from bot.config import ENCRYPTED_MODES
from bot.messaging import inbound, inbound_spool
from bot.messaging.texts import render_text
from bot.services import services
from bot.web.request_session import get_db

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)

SUCCESS = "success"
MAX_CLOCK_SKEW = 300  # seconds between WeChat's timestamp and our clock


class _NoSessionForWeChat(SecureCookieSessionInterface):
    """WeChat's pushes carry no cookies: the webhook skips the console's signed-cookie session."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path == "/wechat":
            return None  # Flask then uses a null session and saves nothing
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Register /wechat."""
    app.session_interface = _NoSessionForWeChat()
    app.register_blueprint(bp)


def _query(*names: str) -> dict[str, str]:
    values = {name: request.args.get(name, "") for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        log.info("webhook: missing parameters %s", ",".join(missing))
        abort(400)
    return values


def _check(q: dict[str, str]) -> None:
    """The URL signature, over a timestamp no more than MAX_CLOCK_SKEW from now: an old signed URL
    (from a log, a proxy) cannot be replayed."""
    try:
        check_signature(current_app.config["WECHAT_TOKEN"], q["signature"], q["timestamp"], q["nonce"])
    except InvalidSignatureException:
        log.info("webhook: bad signature")
        abort(403)
    try:
        skew = abs(time.time() - int(q["timestamp"]))
    except ValueError:
        skew = float("inf")
    if skew > MAX_CLOCK_SKEW:
        log.info("webhook: timestamp too far from now, refused")  # never the query: it is a signed URL
        abort(403)


@bp.get("/wechat")
def verify() -> str:
    """WeChat's server verification: echo echostr when the signature is right."""
    q = _query("signature", "timestamp", "nonce", "echostr")
    _check(q)
    return q["echostr"]


def _crypto() -> WeChatCrypto:
    cfg = current_app.config
    return WeChatCrypto(cfg["WECHAT_TOKEN"], cfg["WECHAT_AES_KEY"], cfg["WECHAT_APPID"])


def _decode(body: bytes, encrypted: bool) -> Any:
    """Decrypt if needed and parse; 400 on anything that isn't a WeChat XML message."""
    try:
        if encrypted:
            q = _query("msg_signature", "timestamp", "nonce")
            body = _crypto().decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
        message = parse_message(body)
        if message is None or not message.source:
            raise ValueError("no FromUserName")
        return message
    except (InvalidSignatureException, InvalidAppIdException):
        log.info("webhook: bad msg_signature or appid")
        abort(403)
    except Exception as exc:  # malformed XML, entities, bad base64/padding, missing fields
        log.info("webhook: rejected body (%s, %d bytes)", type(exc).__name__, len(body))
        abort(400)


def _encrypted() -> bool:
    """Whether this push is encrypted; 403 when it is not in the mode the account is configured for.

    In safe and compatible mode only the msg_signature over the Encrypt body proves a push came from
    WeChat (the URL signature covers no body), so a push without it is refused.
    """
    encrypted = request.args.get("encrypt_type", "raw").lower() == "aes"
    if not encrypted and current_app.config["WECHAT_MODE"] in ENCRYPTED_MODES:
        log.info("webhook: unencrypted push refused (WECHAT_MODE=%s)", current_app.config["WECHAT_MODE"])
        abort(403)
    return encrypted


def _render(reply_text: str | None, message: Any, encrypted: bool) -> Response:
    if not reply_text:
        return Response(SUCCESS, mimetype="text/plain")
    xml = TextReply(content=reply_text, message=message).render()
    if encrypted:
        xml = _crypto().encrypt_message(xml, request.args.get("nonce", ""), str(int(time.time())))
    return Response(xml, mimetype="application/xml")


def _busy() -> str:
    return render_text("busy")


def _error() -> str:
    return render_text("error")


@bp.post("/wechat")
def receive() -> Response:
    """A pushed message or event; always answered within WeChat's deadline."""
    q = _query("signature", "timestamp", "nonce")
    _check(q)
    body = request.get_data(cache=False)
    encrypted = _encrypted()
    message = _decode(body, encrypted)
    try:
        msg = inbound.from_wechat(message)
    except inbound.Malformed as exc:
        log.info("webhook: rejected push (%s out of range)", exc)  # the field's name, never its value
        abort(400)
    svc = services(current_app)
    reply = inbound.receive(
        get_db, msg, svc.handler, utcnow(), busy_reply=_busy, error_reply=_error,
        queue_on=svc.queue if svc.load.overloaded() else None,
        spool=lambda m, now: inbound_spool.push(svc.redis, m, now),
    )
    return _render(reply, message, encrypted)
