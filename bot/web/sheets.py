"""/sheets/<token>.pdf: the unit-door sheet for one building, opened from a 睦邻坊 group's cleanup notice.

No console login: the signed, expiring token (bot.domain.mulinfang_sheets) is the permission, and it names
one notice and one building only. A forged or expired token, or a notice no longer sent, gets a Chinese 403.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, render_template

from bot.clock import utcnow
from bot.config import ROOT
from bot.domain import door_sheets, mulinfang_sheets
from bot.messaging.gateway import SendError
from bot.services import services
from bot.web.request_session import get_db

log = logging.getLogger(__name__)
bp = Blueprint("sheets", __name__, template_folder=str(ROOT / "templates"))


def init_app(app: Flask) -> None:
    """Register /sheets/<token>.pdf."""
    app.register_blueprint(bp)


def _refused(busy: bool = False) -> Response:
    html = render_template("public/sheet_refused.html", contact=current_app.config["STREET_CONTACT"], busy=busy)
    return Response(html, status=503 if busy else 403, mimetype="text/html")


@bp.get("/sheets/<token>.pdf")
def sheet(token: str) -> Response:
    """That building's page of the notice's door sheets, as a PDF to open and print."""
    found = mulinfang_sheets.read_token(str(current_app.config["SECRET_KEY"]), token, utcnow())
    if found is None:
        return _refused()
    street = door_sheets.Street(current_app.config["STREET_NAME"], current_app.config["STREET_CONTACT"])
    try:
        pdf = mulinfang_sheets.sheet_pdf(get_db(), services(current_app).gateway, street, *found)
    except SendError as exc:
        log.warning("door sheet for notice %s: no QR code from WeChat (%s)", found[0], exc.errcode)
        return _refused(busy=True)
    if pdf is None:
        return _refused()
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=notice-{found[0]}-sheet.pdf",
                             "Cache-Control": "private, no-store"})
