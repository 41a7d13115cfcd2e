"""The resident simulator (demo mode only): chat through the real signed webhook, see later pushes.

Messages are signed like WeChat's and posted to the app's own /wechat in-process (so it
works with a single worker); pushes are read from the WeChat stand-in's request record.
"""
from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from bot.web.console.access import scope_residents
from bot.web.request_session import get_db
from bot.devtools.wechat_push import Pusher, message_xml
from bot.storage.models import InboundMessage, Resident
from bot.web.console.access import login_required

bp = Blueprint("console_simulator", __name__, url_prefix="/console/simulator")

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
HISTORY = 200


@bp.before_request
def _demo_only() -> None:
    if current_app.config.get("PRODUCTION", True):
        abort(404)


def _within_scope(openid: str) -> str:
    """The openid when the user may read and write as this resident (their community or cases); 404 if not."""
    if current_user.sees_everything:
        return openid
    query = scope_residents(select(Resident.id).where(Resident.openid == openid), current_user)
    if get_db().scalars(query).first() is None:
        abort(404)
    return openid


def push(openid: str, msg_type: str, fields: dict[str, str]) -> tuple[int, str | None]:
    """Post a message, signed and encrypted as the account is configured, to our own /wechat;
    returns (HTTP status, the bot's reply text)."""
    cfg = current_app.config
    pusher = Pusher(cfg["WECHAT_TOKEN"], cfg["WECHAT_APPID"], cfg["WECHAT_AES_KEY"], cfg["WECHAT_MODE"])
    query, body = pusher.request(message_xml(openid, msg_type, fields))
    res = current_app.test_client().post("/wechat", query_string={**query, "openid": openid}, data=body,
                                         content_type="text/xml")
    reply = pusher.open_reply(res.get_data(as_text=True)) if res.status_code == 200 else None
    return res.status_code, reply.get("Content") if reply else None


def standin_pushes(openid: str, since: int) -> tuple[int, list[dict[str, Any]]]:
    """Messages the WeChat stand-in received for this resident since request `since` (local stand-in only)."""
    base = current_app.config["WECHAT_API_BASE_URL"]
    if urlsplit(base).hostname not in LOCAL_HOSTS:
        return since, []  # never ask the real WeChat (or anything on the internet)
    url = base.removesuffix("/").removesuffix("cgi-bin") + "_standin/requests"
    try:
        data = requests.get(url, params={"since": since}, timeout=3).json()
    except (requests.RequestException, ValueError):
        current_app.logger.warning("simulator: the WeChat stand-in did not answer")
        return since, []
    out = []
    for r in data.get("requests", []):
        if r.get("openid") != openid or r.get("errcode") != 0 or r.get("kind") not in ("custom", "template"):
            continue
        body = r.get("body") or {}
        if r["kind"] == "custom":
            text = (body.get("text") or {}).get("content", "")
        else:
            text = "\n".join(str(v.get("value", "")) for v in (body.get("data") or {}).values() if isinstance(v, dict))
        out.append({"who": "bot", "kind": r["kind"], "text": text, "t": r.get("t")})
    return int(data.get("total", since)), out


@bp.get("")
@login_required
def page() -> str:
    """The chat page with the residents to pick from."""
    query = scope_residents(select(Resident).order_by(Resident.id.desc()).limit(100), current_user)
    residents = get_db().scalars(query).all()
    return render_template("console/simulator.html", residents=residents,
                           openid=request.args.get("openid", ""))


@bp.get("/history")
@login_required
def history() -> Response:
    """The resident's messages and the bot's replies so far, then pushes; `total` is where to poll from."""
    openid = _within_scope(request.args.get("openid", ""))
    rows = get_db().scalars(select(InboundMessage).where(InboundMessage.openid == openid)
                            .order_by(InboundMessage.id.desc()).limit(HISTORY)).all()
    lines: list[dict[str, Any]] = []
    for row in reversed(rows):
        t = row.received_at.timestamp()
        if row.msg_type != "event":
            lines.append({"who": "resident", "kind": row.msg_type, "text": row.content or "", "t": t})
        if row.reply:
            lines.append({"who": "bot", "kind": "reply", "text": row.reply, "t": t})
    total, pushes = standin_pushes(openid, 0)
    return jsonify({"lines": lines, "pushes": pushes, "total": total})


@bp.get("/feed")
@login_required
def feed() -> Response:
    """Pushes to the resident since the stand-in request number `since`."""
    since = request.args.get("since", "0")
    openid = _within_scope(request.args.get("openid", ""))
    total, pushes = standin_pushes(openid, int(since) if since.isdigit() else 0)
    return jsonify({"pushes": pushes, "total": total})


@bp.post("/send")
@login_required
def send() -> Response:
    """The resident sends a text, a photo, or follows the account (a new resident; unscoped users only)."""
    data = request.get_json(silent=True) or {}
    openid = str(data.get("openid") or "").strip()
    kind = data.get("kind", "text")
    if kind == "new":
        if not current_user.sees_everything:
            abort(403)  # a new resident lives nowhere yet: in no scoped user's reach
        openid = "sim-" + secrets.token_hex(6)
        status, reply = push(openid, "event", {"Event": "subscribe"})
    elif not openid or len(openid) > 64:
        abort(400)
    elif kind == "image":
        _within_scope(openid)
        media = secrets.token_hex(6)
        status, reply = push(openid, "image", {"PicUrl": f"http://127.0.0.1/simulated/{media}.jpg", "MediaId": media})
    else:
        text = str(data.get("text") or "").strip()
        if not text or len(text) > 600:
            abort(400)
        _within_scope(openid)
        status, reply = push(openid, "text", {"Content": text})
    return jsonify({"openid": openid, "status": status, "reply": reply})
