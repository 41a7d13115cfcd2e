"""Notices in the console: list with progress, create, edit before sending starts, cancel, print the door sheets."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, cast

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from bot.clock import parse_local, to_local, utcnow
from bot.constants import NoticeStatus
from bot.domain import door_sheets, notice_replies, notice_rounds, notices
from bot.domain.quiet_hours import QuietHours
from bot.errors import MulinError, NotFound, NoticeLocked
from bot.messaging.gateway import SendError
from bot.messaging.texts import render_text
from bot.services import services
from bot.storage.models import Case, Community, Compound, Notice
from bot.web.console.access import login_required
from bot.web.request_session import get_db

bp = Blueprint("console_notices", __name__, url_prefix="/console")

BUILDING_SEPARATORS = re.compile(r"[,，、;；\s]+")
BUILDING_SUFFIX = re.compile(r"(号楼|号|栋|幢|楼)$")
FORM_FIELDS = ("compound", "buildings", "community", "cleanup_at", "text")  # kept when a notice is refused


def _when(raw: str) -> datetime:
    """A datetime-local field ('YYYY-MM-DDTHH:MM', Asia/Shanghai) as naive UTC."""
    return parse_local(raw.replace("T", " "))


def _buildings(raw: str) -> list[str] | None:
    """Building names as clerks type them: "5", "5号楼", "4、5号楼", "4号楼，5号楼", "4 5", "5栋"."""
    names = [BUILDING_SUFFIX.sub("", n) for n in BUILDING_SEPARATORS.split(raw) if n]
    return [n for n in names if n] or None


def _problem(exc: Exception, form: Any) -> str:
    """What is wrong with a refused notice form, as the code of a Chinese message (templates/console/base.html)."""
    if isinstance(exc, NoticeLocked):
        return "notice_locked"
    if isinstance(exc, NotFound):
        return "notice_place_unknown"
    if isinstance(exc, ValueError):
        return "notice_time_invalid"
    if "text" in form and not form["text"].strip():
        return "notice_text_missing"
    if form.get("cleanup_at") and _when(form["cleanup_at"]) <= utcnow():
        return "notice_time_past"
    return "notice_target_invalid"


def _allowed(community_name: str | None) -> bool:
    """Staff limited to a community may only send to it."""
    if current_user.is_admin or current_user.community_id is None:
        return True
    own = get_db().get(Community, current_user.community_id)
    return own is not None and own.name == community_name


def _notice(notice_id: int) -> Notice:
    try:
        notice = notices.get_notice(get_db(), notice_id)
    except NotFound:
        abort(404)
    if not _allowed(notice.target.get("community")):
        abort(404)
    return notice


@bp.get("/notices")
@login_required
def index() -> str:
    """Every notice (newest first) with its delivery progress, and the form for a new one."""
    session = get_db()
    rows = [(n, notices.notice_progress(session, n)) for n in notices.list_notices(session)
            if _allowed(n.target.get("community"))]
    compounds = session.scalars(select(Compound).order_by(Compound.name)).all()
    communities = session.scalars(select(Community).order_by(Community.name)).all()
    return render_template("console/notices.html", rows=rows, compounds=compounds, communities=communities,
                           form=request.args)


@bp.post("/notices")
@login_required
def create() -> Response:
    """Create a notice for a compound (some buildings) or a whole community."""
    session, form = get_db(), request.form
    compound, community = form.get("compound") or None, form.get("community") or None
    target_community = community
    if compound:
        found = session.scalars(select(Compound).where(Compound.name == compound)).one_or_none()
        target_community = found.community.name if found else None
    if not _allowed(target_community):
        abort(403)
    try:
        notice = notices.create_notice(
            session, compound=compound, community=community, buildings=_buildings(form.get("buildings", "")),
            cleanup_at=_when(form.get("cleanup_at", "")), text=form.get("text", ""),
            actor=current_user.username, now=utcnow(), offsets=current_app.config["NOTICE_OFFSETS_MINUTES"])
    except (MulinError, ValueError) as exc:
        session.rollback()
        flash(_problem(exc, form), "error")
        if isinstance(exc, MulinError):
            flash(str(exc), "detail")  # the domain's own reason, in Chinese (templates/text/errors.yaml)
        kept = {k: form[k] for k in FORM_FIELDS if form.get(k)}  # the form comes back filled in
        return redirect(url_for("console_notices.index", **cast(dict[str, Any], kept)))
    session.commit()
    flash("done_notice", "ok")
    return redirect(url_for("console_notices.show", notice_id=notice.id))


@bp.get("/notices/<int:notice_id>")
@login_required
def show(notice_id: int) -> str:
    """One notice: target, text, progress with failure reasons, and edit/cancel while allowed."""
    session, now = get_db(), utcnow()
    notice = _notice(notice_id)
    progress = notices.notice_progress(session, notice)
    editable = notice.status == NoticeStatus.ACTIVE and not notice.fanned_out
    local = to_local(notice.cleanup_at).strftime("%Y-%m-%dT%H:%M")
    forecast = None
    if notice.status == NoticeStatus.ACTIVE and set(notice.offsets) - set(notice.fanned_out):
        forecast = notices.reach_forecast(session, notice, services(current_app).gateway,
                                          current_app.config["TEMPLATE_IDS"], now)
    replies = notice_replies.replies_of(session, notice)
    numbers = {c.id: c.number for c in session.scalars(select(Case).where(
        Case.id.in_([r.case_id for r in replies if r.case_id])))}
    next_at = notice_rounds.next_send_at(notice, now, QuietHours.parse(current_app.config["QUIET_HOURS"]))
    return render_template("console/notice.html", notice=notice, progress=progress, editable=editable,
                           cleanup_local=local, forecast=forecast, replies=replies, case_numbers=numbers,
                           acknowledged=notice_replies.acknowledged(session, notice),
                           rounds=notice_rounds.rounds(session, notice, progress.targeted), next_at=next_at)


@bp.get("/notices/<int:notice_id>/sheet.pdf")
@login_required
def sheet(notice_id: int) -> Response:
    """The unit-door sheets to print: one A4 page per targeted building with its QR code."""
    notice = _notice(notice_id)
    street = door_sheets.Street(current_app.config["STREET_NAME"], current_app.config["STREET_CONTACT"])
    try:
        pdf, _ = door_sheets.for_notice(get_db(), notice, services(current_app).gateway, street)
    except (MulinError, SendError) as exc:
        flash(render_text("notice/error", reason=str(exc)), "error")
        return redirect(url_for("console_notices.show", notice_id=notice_id))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=notice-{notice_id}-sheets.pdf"})


@bp.post("/notices/<int:notice_id>/edit")
@login_required
def edit(notice_id: int) -> Response:
    """Change text, time or buildings before sending starts."""
    session, form = get_db(), request.form
    notice = _notice(notice_id)
    try:
        notices.update_notice(
            session, notice.id, text=form.get("text"),
            cleanup_at=_when(form["cleanup_at"]) if form.get("cleanup_at") else None,
            buildings=_buildings(form.get("buildings", "")) if notice.target.get("compound") else None,
            actor=current_user.username, now=utcnow())
    except (MulinError, ValueError) as exc:
        session.rollback()
        flash(_problem(exc, form), "error")
        if isinstance(exc, MulinError):
            flash(str(exc), "detail")  # the domain's own reason, in Chinese (templates/text/errors.yaml)
        return redirect(url_for("console_notices.show", notice_id=notice_id))
    session.commit()
    flash("done_notice_edit", "ok")
    return redirect(url_for("console_notices.show", notice_id=notice_id))


@bp.post("/notices/<int:notice_id>/cancel")
@login_required
def cancel(notice_id: int) -> Response:
    """Cancel the notice: unsent deliveries are dropped."""
    session = get_db()
    notice = _notice(notice_id)
    notices.cancel_notice(session, notice.id, actor=current_user.username, now=utcnow())
    session.commit()
    flash("done_notice_cancel", "ok")
    return redirect(url_for("console_notices.show", notice_id=notice_id))
