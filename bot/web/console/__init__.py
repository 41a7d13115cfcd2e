"""The staff console (/console) and the token API (/api): login, CSRF, blueprints."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, jsonify, redirect, render_template, request
from flask_login import LoginManager, current_user, login_url
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from bot.clock import fmt_local, utcnow
from bot.messaging import inbound
from bot.messaging.texts import label
from bot.web.request_session import get_db

# The console's own files only: no inline script or style, no framing (clickjacking), no plugins. Photos
# residents sent are shown from WeChat's servers, hence images from anywhere.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data: https: http:; connect-src 'self'; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
LOGIN_VIEW = "console_auth.login"
SESSION_LIFETIME = timedelta(hours=12)  # a signed cookie is refused after this, logout or not


def init_app(app: Flask) -> None:
    """Set up Flask-Login and CSRF protection, and register the console and API blueprints."""
    from bot.web import api, webhook
    from bot.web.console import (
        access,
        admin,
        auth,
        case_actions,  # noqa: F401 - adds the action routes to cases.bp
        cases,
        consultations,
        media,
        mulinfang,
        notices,
        projects,
        simulator,
        statistics,
        wechat_binding,
    )

    login = LoginManager(app)
    login.login_view = LOGIN_VIEW
    login.login_message = None
    login.session_protection = "strong"
    login.user_loader(access.load_user)
    login.unauthorized_handler(_login_first)
    csrf = CSRFProtect(app)
    csrf.exempt(webhook.bp)  # signed by WeChat, not a browser form
    csrf.exempt(api.bp)  # bearer-token authenticated, no cookies
    app.register_error_handler(CSRFError, _csrf_refused)
    for code in CONSOLE_ERRORS:
        app.register_error_handler(code, _console_error)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config.get("SESSION_COOKIE_SECURE", False))
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:  # believe X-Forwarded-For/-Proto from that many proxies, no more (login throttle)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.after_request(_security_headers)
    for module in (auth, cases, media, notices, statistics, simulator, admin, wechat_binding, api, mulinfang,
                   consultations, projects):
        app.register_blueprint(module.bp)
    app.jinja_env.filters.setdefault("local", fmt_local)
    app.jinja_env.globals.setdefault("label", label)
    app.jinja_env.filters.setdefault("masked", access.mask_phone)
    app.context_processor(_waiting_messages)


def _login_first() -> Response | tuple[Response, int]:
    """Not logged in: a page goes to the login page (and back after it); a page's poll (live.json) is refused with
    401. Following the poll to the login page, as the redirect made the browser do, started a new session there and
    replaced the cookie of a login form open meanwhile: the clerk's login was then refused as 页面已过期."""
    if request.path.endswith(".json"):
        return jsonify({"error": "unauthorized"}), 401
    return redirect(login_url(LOGIN_VIEW, next_url=request.url))


def _waiting_messages() -> dict[str, Any]:
    """For staff pages: how many residents' messages have waited minutes for an answer (0 normally)."""
    if not current_user.is_authenticated:
        return {}
    return {"waiting_messages": inbound.waiting(get_db(), utcnow())}


CONSOLE_ERRORS = (400, 403, 404, 405, 500)


def _console_error(exc: HTTPException) -> HTTPException | tuple[str, int]:
    """Console errors as Chinese pages in the console's layout, with a way back; elsewhere unchanged."""
    if not request.path.startswith("/console") or request.path.startswith("/console/simulator/"):
        return exc  # the webhook, the API (JSON errors of its own), the simulator's JSON calls
    code = exc.code if isinstance(exc, HTTPException) and exc.code else 500
    return render_template("console/error.html", code=code), code


def _csrf_refused(_exc: CSRFError) -> tuple[str, int]:
    """A form posted without a valid token (forged, or the page was open too long): 400 with a way back."""
    return render_template("console/csrf.html"), 400


def _security_headers(response: Response) -> Response:
    """Every response gets the headers (a page may set its own first)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
