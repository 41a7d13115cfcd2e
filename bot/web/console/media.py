"""Residents' photos and voice on the case page, served from MEDIA_DIR to staff who may see the case,
and the delivery state of each message sent to the resident about the case (a partial of case.html:
templates/console/_case_media.html reads case_media() and case_deliveries())."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from bot.constants import MediaStatus
from bot.messaging import media_store, receipts
from bot.storage.models import Case, MediaFile, Outbox
from bot.web.console.access import login_required
from bot.web.console.cases import visible_case
from bot.web.request_session import get_db

bp = Blueprint("console_media", __name__, url_prefix="/console")

KINDS = {"photo": "image", "voice": "voice", "video": "video", "shortvideo": "video"}  # event kind -> media kind
MAX_AGE = 3600  # seconds a browser may keep a photo (the file never changes; access is checked on each load)


@dataclass(frozen=True)
class Kept:
    """A photo or voice message of the case: where to load it (None until it is stored) and its state."""

    kind: str  # image | voice | video
    at: datetime
    status: str  # MediaStatus, or pending when the scheduler has not found it yet
    url: str | None = None


@dataclass(frozen=True)
class Delivery:
    """A message sent to the resident about the case and where it stands."""

    at: datetime
    purpose: str
    channel: str | None
    state: str  # DeliveryState
    reason: str | None = None


def _media_ids(case: Case) -> dict[str, tuple[str, datetime]]:
    """The case's media ids (from its photo and voice events): media id -> (kind, when)."""
    found: dict[str, tuple[str, datetime]] = {}
    for event in case.events:
        media_id = (event.data or {}).get("MediaId") if event.kind in KINDS else None
        if media_id:
            found.setdefault(str(media_id), (KINDS[event.kind], event.created_at))
    return found


@bp.app_template_global("case_media")
def case_media(case: Case) -> list[Kept]:
    """The case's photos and voice messages, oldest first, with the URL of each stored file."""
    ids = _media_ids(case)
    stored = media_store.stored_for(get_db(), list(ids))
    kept = []
    for media_id, (kind, at) in ids.items():
        row = stored.get(media_id)
        if row is not None and row.status == MediaStatus.STORED:
            url = url_for("console_media.media", number=case.number, file_id=row.id)
            kept.append(Kept(kind, at, row.status, url))
        else:
            kept.append(Kept(kind, at, row.status if row is not None else MediaStatus.PENDING))
    return sorted(kept, key=lambda k: k.at)


@bp.app_template_global("case_deliveries")
def case_deliveries(case: Case) -> list[Delivery]:
    """The messages sent to the resident about the case, each in one delivery state (reasons in Chinese)."""
    rows = get_db().scalars(select(Outbox).where(Outbox.case_id == case.id, Outbox.openid == case.openid)
                            .order_by(Outbox.id).limit(200))
    out = []
    for row in rows:
        state = receipts.state_of(row.status, row.channel, row.receipt)
        reason = receipts.reason(row.errcode, row.error, row.receipt) if state == "failed" else None
        out.append(Delivery(row.sent_at or row.created_at, row.purpose, row.channel, state, reason))
    return out


@bp.get("/cases/<number>/media/<int:file_id>")
@login_required
def media(number: str, file_id: int) -> Response:
    """A stored photo (JPEG/PNG) or voice message (MP3) of a case the user may see; 404 otherwise."""
    case = visible_case(number)
    row = get_db().get(MediaFile, file_id)
    if row is None or row.status != MediaStatus.STORED or not row.path or row.media_id not in _media_ids(case):
        abort(404)
    folder = media_store.media_dir(current_app.config).resolve()
    path = (folder / row.path).resolve()
    if not path.is_relative_to(folder) or not Path(path).is_file():
        abort(404)
    response = send_file(path, mimetype=row.content_type or "application/octet-stream", conditional=True,
                         max_age=MAX_AGE)
    response.headers["Cache-Control"] = f"private, max-age={MAX_AGE}"
    return response
