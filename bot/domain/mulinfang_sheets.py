"""睦邻坊's door-sheet link: a signed, expiring token naming one notice and one building, so the group can open
the printable unit-door sheet (the `notice sheet` PDF, that building's page) without a console login.

The token is signed with SECRET_KEY (itsdangerous) and carries its end (the cleanup plus SHEET_LINK_DAYS_AFTER
days); a forged, altered or expired token reads as None. It names ids only: nothing personal is in the URL.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from bot.constants import NoticeStatus
from bot.domain import door_sheets, mulinfang
from bot.messaging import qrcodes
from bot.messaging.gateway import Gateway
from bot.storage.models import Building, Notice

SALT = "mulinfang-door-sheet"
ROUTE = "/sheets/{token}.pdf"


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def make_token(secret: str, notice_id: int, building_id: int, until: datetime) -> str:
    """A token for one building's sheet of one notice, valid until `until` (naive UTC)."""
    end = int(until.replace(tzinfo=UTC).timestamp())
    return str(_serializer(secret).dumps({"n": notice_id, "b": building_id, "u": end}))


def link(config: dict[str, Any], notice: Notice, building: Building) -> str | None:
    """The absolute link for the group's notice (PUBLIC_BASE_URL); None when no public address is set."""
    base = str(config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base or not config.get("SECRET_KEY"):
        return None
    until = notice.cleanup_at + timedelta(days=int(config["SHEET_LINK_DAYS_AFTER"]))
    return base + ROUTE.format(token=make_token(str(config["SECRET_KEY"]), notice.id, building.id, until))


def read_token(secret: str, token: str, now: datetime) -> tuple[int, int] | None:
    """(notice id, building id) of a valid token; None when it is forged, altered or expired."""
    try:
        data = _serializer(secret).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("n", "b", "u")):
        return None
    if datetime.fromtimestamp(data["u"], UTC).replace(tzinfo=None) < now:
        return None
    return data["n"], data["b"]


def sheet_pdf(session: Session, gateway: Gateway, street: door_sheets.Street, notice_id: int,
              building_id: int) -> bytes | None:
    """That building's page of the notice's sheets (with its QR code from WeChat); None when the notice is
    gone or cancelled, or no longer targets the building. SendError when WeChat cannot give the QR code."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        return None
    try:
        buildings = [b for b in door_sheets.notice_buildings(session, notice) if b.id == building_id]
    except door_sheets.NothingToPrint:
        return None
    if not buildings or notice.status == NoticeStatus.CANCELLED:
        return None
    return door_sheets.render(notice, buildings, lambda b: qrcodes.fetch(gateway, qrcodes.building_scene(b.id)).png,
                              street, lambda b: mulinfang.contact_line(session, b.id))
