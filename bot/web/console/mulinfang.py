"""睦邻坊 in the console: each building's members, and applications made by chat, approved or declined.

Scoped like cases: staff limited to a community see and decide only their community's groups. The resident
hears the decision through the outbox (in the same commit).
"""
from __future__ import annotations

from itertools import groupby

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from bot.clock import utcnow
from bot.constants import MemberStatus, MulinfangRole, Purpose
from bot.domain import mulinfang
from bot.errors import MulinError
from bot.messaging import outbox
from bot.messaging.texts import render_text
from bot.storage.models import MulinfangMember
from bot.web.console.access import login_required
from bot.web.request_session import get_db

bp = Blueprint("console_mulinfang", __name__, url_prefix="/console")


def _community() -> int | None:
    """The community the user is limited to (None: every community)."""
    return None if current_user.is_admin else current_user.community_id


@bp.get("/mulinfang")
@login_required
def index() -> str:
    """Applications waiting for the community, then every building's group with its members."""
    session, community = get_db(), _community()
    members = [m for m in mulinfang.list_members(session)
               if community is None or m.building.compound.community_id == community]
    groups = [(building, list(rows)) for building, rows in groupby(members, key=lambda m: m.building)]
    return render_template("console/mulinfang.html", groups=groups,
                           applications=mulinfang.applications(session, community), roles=list(MulinfangRole))


@bp.post("/mulinfang/<int:member_id>/decide")
@login_required
def decide(member_id: int) -> Response:
    """Approve (name and role as the community settles them) or decline an application; the resident is told."""
    session, form, now = get_db(), request.form, utcnow()
    member = session.get(MulinfangMember, member_id)
    community = _community()
    if member is None or (community is not None and member.building.compound.community_id != community):
        abort(404)
    approve = form.get("decision") == "approve"
    try:
        mulinfang.decide(session, member, approve=approve, actor=current_user.username, now=now,
                         name=form.get("name") or None, role=form.get("role") or None)
    except MulinError as exc:
        session.rollback()
        flash(str(exc), "detail")
        return redirect(url_for("console_mulinfang.index"))
    place = render_text("mulinfang/place", building=member.building)
    text = render_text("mulinfang/approved" if approve else "mulinfang/rejected", m=member, place=place,
                       contact=current_app.config["STREET_CONTACT"])
    outbox.enqueue(session, key=f"mulinfang:{member.id}:{member.status}:{now.isoformat()}", openid=member.openid,
                   purpose=Purpose.REPLY, text=text, now=now)
    session.commit()
    flash(render_text("mulinfang/decided", m=member, place=place,
                      approved=member.status == MemberStatus.ACTIVE), "detail")
    return redirect(url_for("console_mulinfang.index"))


@bp.post("/mulinfang/<int:member_id>/contact")
@login_required
def contact(member_id: int) -> Response:
    """Mark a member as the group's contact shown to the building's residents (or unmark them); the phone
    only as the member agreed to show it."""
    session, form = get_db(), request.form
    member = session.get(MulinfangMember, member_id)
    community = _community()
    if member is None or (community is not None and member.building.compound.community_id != community):
        abort(404)
    try:
        mulinfang.set_contact(session, member, contact=form.get("contact") == "1", phone=form.get("phone"))
    except MulinError as exc:
        session.rollback()
        flash(str(exc), "detail")
        return redirect(url_for("console_mulinfang.index"))
    session.commit()
    flash(render_text("mulinfang/contact_set", m=member,
                      place=render_text("mulinfang/place", building=member.building)), "detail")
    return redirect(url_for("console_mulinfang.index"))
