"""我的微信: a logged-in user gets a one-time code to send to the official account ("绑定 123456"), sees
whether a WeChat is bound, and may unbind it (bot/domain/staff_binding.py does the work, and audits it)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from bot.clock import utcnow
from bot.domain import staff_binding
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
