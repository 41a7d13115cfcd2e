"""Log in and out of the console; failed attempts are throttled per username and client address."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from bot.config import ROOT
from bot.domain import users
from bot.services import services
from bot.storage.models import User
from bot.web.console import throttle
from bot.web.console.access import ConsoleUser, login_required
from bot.web.request_session import get_db

bp = Blueprint("console_auth", __name__, url_prefix="/console", template_folder=str(ROOT / "templates"))

MAX_USERNAME = 64  # the column's length; longer input is no username


def _safe_next(target: str | None) -> str:
    """Only redirect to a plain path inside the console after login (no open redirects, no header tricks)."""
    if target and target.isascii() and target.isprintable() and " " not in target and "\\" not in target:
        if target == "/console" or target.startswith("/console/") or target.startswith("/console?"):
            return target
    return url_for("console_cases.index")


def _refused(username: str, address: str, locked: bool) -> tuple[str, int]:
    """The one answer for any refusal (unknown name, wrong password, locked), logged without the password."""
    current_app.logger.warning("console login refused: username=%r address=%s locked=%s",
                               username, address, locked)
    return render_template("console/login.html", error="locked" if locked else "wrong"), 401


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """The login form; a wrong password or too many failures from this address is refused with 401."""
    if request.method == "GET":
        return render_template("console/login.html", error=None)
    username = request.form.get("username", "").strip()[:MAX_USERNAME]
    address, store = request.remote_addr or "unknown", services(current_app).redis
    if throttle.locked(store, address, username):
        return _refused(username, address, True)
    try:
        user = users.authenticate(get_db(), username, request.form.get("password", ""))
    except users.LoginRefused:
        return _refused(username, address, throttle.failed(store, address, username))
    throttle.succeeded(store, address, username)
    login_user(ConsoleUser.of(user))
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
@login_required
def logout() -> Response:
    """End the session here and everywhere: the stored session version moves on, old cookies stop working."""
    session = get_db()
    user = session.get(User, current_user.id)
    if user is not None:
        users.end_sessions(user)
        session.commit()
    logout_user()
    return redirect(url_for("console_auth.login"))
