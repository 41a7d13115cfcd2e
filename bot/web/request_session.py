"""Each web request its own database session, opened on first use and closed at the end."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from bot.services import services


def init_app(app: Flask) -> None:
    """Close the request's session when the request (or an outer app context) ends."""
    app.teardown_request(_close_session)  # each request its own session, even inside an outer app context
    app.teardown_request(_forget_request_state)
    app.teardown_appcontext(_close_session)


def get_db() -> Session:
    """The session of the current request or app context, opened on first use."""
    if "db" not in g:
        g.db = services(current_app).sessions()
    return g.db  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def _forget_request_state(_exc: BaseException | None) -> None:
    """Flask-Login keeps the request's user, Flask-WTF its CSRF token in `g`; inside an outer app context
    (the CLI, the tests) `g` outlives the request, and the next request must use its own cookie's."""
    g.pop("_login_user", None)
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
