"""Log in and out of the console; failed attempts count towards a lockout."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from bot.domain import users
from bot.clock import utcnow
from bot.config import ROOT
from bot.web.console.access import ConsoleUser, login_required
from bot.web.request_session import get_db

bp = Blueprint("console_auth", __name__, url_prefix="/console", template_folder=str(ROOT / "templates"))


def _safe_next(target: str | None) -> str:
    """Only redirect to a path inside the console after login (no open redirects)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/console"):
            return target
    return url_for("console_cases.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """The login form; a wrong password or a locked account is refused with 401."""
    if request.method == "GET":
        return render_template("console/login.html", error=None)
    session = get_db()
    try:
        user = users.authenticate(session, request.form.get("username", ""),
                                  request.form.get("password", ""), utcnow())
    except users.LoginRefused as exc:
        session.commit()  # keep the failure count
        current_app.logger.info("console login refused (locked=%s)", exc.locked)
        error = "locked" if exc.locked else "wrong"
        return render_template("console/login.html", error=error), 401  # type: ignore[return-value]
    session.commit()
    login_user(ConsoleUser.of(user))
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
@login_required
def logout() -> Response:
    """End the session."""
    logout_user()
    return redirect(url_for("console_auth.login"))
