"""睦邻坊 first: each targeted building's group gets a cleanup notice MULINFANG_NOTICE_LEAD_MINUTES before the
residents' first send (at once when that is sooner), with the unit-door sheet as text to post and to tell
neighbours without WeChat. This job runs before the notice fan-out, so even a notice sent at once reaches the
groups first. One outbox row per notice version, member and building (a changed notice is sent again)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import fmt_local, to_local
from bot.constants import NoticeStatus, Purpose
from bot.domain import mulinfang, mulinfang_sheets, notices
from bot.messaging import outbox
from bot.messaging.texts import render_text
from bot.services import services
from bot.storage.models import Building, Notice


def _version(notice: Notice) -> str:
    """A short digest of what the group read: an edited notice is a new message."""
    seen = f"{notice.text}|{notice.cleanup_at.isoformat()}|{notice.target}"
    return hashlib.sha1(seen.encode("utf-8")).hexdigest()[:10]


def sheet_text(session: Session, notice: Notice, building: Building, street: str, contact: str) -> str:
    """The unit-door sheet (flask --app bot notice sheet) as plain text, for one building."""
    parts = (render_text("sheet/title"), render_text("sheet/place", compound=building.compound.name,
                                                     building=building.name),
             notice.text, render_text("sheet/when", at=to_local(notice.cleanup_at)),
             render_text("sheet/contact", street=street, contact=contact))
    group = mulinfang.contact_line(session, building.id)  # the building's own contact, on the door
    return "\n".join((*parts, group) if group else parts)


def tell_groups(session: Session, notice: Notice, now: datetime, street: str, contact: str,
                config: dict[str, Any] | None = None) -> int:
    """Queue the notice for its buildings' groups (idempotent); returns rows created."""
    created, version = 0, _version(notice)
    residents_at = fmt_local(notices.residents_first_send(notice, now))
    for openid, building_id in session.execute(notices.groups_of(notice.target)).all():
        building = session.get(Building, building_id)
        assert building is not None
        text = render_text("mulinfang/notice_first", place=render_text("mulinfang/place", building=building),
                           date=fmt_local(notice.cleanup_at), residents_at=residents_at,
                           sheet=sheet_text(session, notice, building, street, contact),
                           link=mulinfang_sheets.link(config or {}, notice, building))
        created += outbox.enqueue(session, key=f"mulinfang-notice:{notice.id}:{version}:{building_id}:{openid}",
                                  openid=openid, purpose=Purpose.NOTICE, text=text, now=now)
    return created


def notices_first(app: Flask, now: datetime) -> dict[str, Any]:
    """Scheduler job: tell the groups of every active notice whose groups' time has come; commits."""
    lead = timedelta(minutes=int(app.config["MULINFANG_NOTICE_LEAD_MINUTES"]))
    street, contact = app.config["STREET_NAME"], app.config["STREET_CONTACT"]
    counts = {"notices": 0, "sends": 0}
    with services(app).sessions() as session:
        for notice in session.scalars(select(Notice).where(Notice.status == NoticeStatus.ACTIVE,
                                                           Notice.cleanup_at > now).order_by(Notice.id)).all():
            if notices.groups_due(notice, now, lead):
                created = tell_groups(session, notice, now, street, contact, app.config)
                counts["notices"] += bool(created)
                counts["sends"] += created
        session.commit()
    return counts
