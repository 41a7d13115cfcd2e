"""The staff console (/console) and the token API (/api): login, CSRF, blueprints."""
from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.messaging import inbound
from bot.clock import fmt_local, utcnow
from bot.web.request_session import get_db
from bot.messaging.texts import label


def init_app(app: Flask) -> None:
    """Set up Flask-Login and CSRF protection, and register the console and API blueprints."""
    from bot.web import webhook
    from bot.web.console import access, admin, auth, cases, notices, simulator, statistics
    from bot.web import api
    from bot.web.console import case_actions  # noqa: F401 - adds the action routes to cases.bp

    login = LoginManager(app)
    login.login_view = "console_auth.login"
    login.login_message = None
    login.session_protection = "strong"
    login.user_loader(access.load_user)
    csrf = CSRFProtect(app)
    csrf.exempt(webhook.bp)  # signed by WeChat, not a browser form
    csrf.exempt(api.bp)  # bearer-token authenticated, no cookies
    app.register_error_handler(CSRFError, _csrf_refused)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config.get("SESSION_COOKIE_SECURE", False))
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    for module in (auth, cases, notices, statistics, simulator, admin, api):
        app.register_blueprint(module.bp)
    app.jinja_env.filters.setdefault("local", fmt_local)
    app.jinja_env.globals.setdefault("label", label)
    app.jinja_env.filters.setdefault("masked", access.mask_phone)
    app.context_processor(_waiting_messages)


def _waiting_messages() -> dict[str, Any]:
    """For staff pages: how many residents' messages have waited minutes for an answer (0 normally)."""
    if not current_user.is_authenticated:
        return {}
    return {"waiting_messages": inbound.waiting(get_db(), utcnow())}


def _csrf_refused(_exc: CSRFError) -> tuple[str, int]:
    """A form posted without a valid token (forged, or the page was open too long): 400 with a way back."""
    return render_template("console/csrf.html"), 400
