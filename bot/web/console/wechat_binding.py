"""我的微信: a logged-in user gets a one-time code to send to the official account ("绑定 123456"), sees
whether a WeChat is bound, and may unbind it (bot/domain/staff_binding.py does the work, and audits it)."""
from __future__ import annotations

import redis
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from bot.clock import utcnow
from bot.domain import staff_binding
from bot.messaging.gateway import SendError
from bot.services import services
from bot.storage.models import User
from bot.web.console.access import login_required
from bot.web.request_session import get_db

bp = Blueprint("console_wechat", __name__, url_prefix="/console")


def _me() -> User:
    user = get_db().get(User, current_user.id)
    assert user is not None  # the loader found it for this request
    return user


@bp.get("/me/wechat")
@login_required
def page() -> str:
    """The user's binding: the current code while it is valid, or whether a WeChat is bound."""
    session, now = get_db(), utcnow()
    user = _me()
    code = user.bind_code if user.bind_code_expires_at and user.bind_code_expires_at > now else None
    return render_template("console/wechat.html", user=user, code=code, now=now,
                           bound=staff_binding.bound_openid(session, user) is not None,
                           department=staff_binding.department_of(user))


@bp.get("/me/wechat/qr.png")
@login_required
def qr() -> Response:
    """The current code as a temporary parameter QR code (scene "bind:<code>"): scanning it with WeChat binds
    as sending the code does. Its ticket is kept in Redis for the code's lifetime, so reloads make no new one."""
    now, user, svc = utcnow(), _me(), services(current_app)
    if not user.bind_code or not user.bind_code_expires_at or user.bind_code_expires_at <= now:
        abort(404)
    seconds = int((user.bind_code_expires_at - now).total_seconds())
    key = f"bind-qr:{user.bind_code}"
    try:
        ticket = svc.redis.get(key)
        if ticket is None:
            ticket = str(svc.gateway.create_temp_qr(staff_binding.SCENE_PREFIX + user.bind_code, seconds)["ticket"])
            svc.redis.set(key, ticket, ex=max(1, seconds))
        png = svc.gateway.qr_image(ticket.decode() if isinstance(ticket, bytes) else str(ticket))
    except (SendError, KeyError, redis.RedisError):
        abort(404)  # the page says to send the code instead
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


@bp.post("/me/wechat/code")
@login_required
def new_code() -> Response:
    """A new one-time code (the previous one stops working)."""
    session = get_db()
    staff_binding.issue_code(session, _me(), utcnow(), float(current_app.config["BIND_CODE_MINUTES"]))
    session.commit()
    return redirect(url_for("console_wechat.page"))


@bp.post("/me/wechat/unbind")
@login_required
def unbind() -> Response:
    """This user's WeChat receives no more notifications."""
    session = get_db()
    staff_binding.unbind(session, _me())
    session.commit()
    flash("done_wechat_unbound", "ok")
    return redirect(url_for("console_wechat.page"))
