"""Case list (filters, search by number) and case page (conversation, photos, audit trail, links)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from bot.constants import CASE_DEPARTMENTS, OPEN_STATUSES, CaseStatus
from bot.domain.cases import TRANSITIONS
from bot.clock import utcnow
from bot.web.console.access import may_see, scope_cases, login_required
from bot.web.console.conversation import Line, conversation
from bot.web.request_session import get_db
from bot.domain.residents import in_service_window
from bot.services import services
from bot.storage.models import Case, Community, Compound, Resident

bp = Blueprint("console_cases", __name__, url_prefix="/console")

PAGE = 200
STATUSES = tuple(CaseStatus)


def _filters(args: Any) -> dict[str, str]:
    keys = ("status", "intent", "community", "compound", "overdue", "reopened", "q")
    return {k: args.get(k, "").strip() for k in keys}


def _query(f: dict[str, str], now: datetime):  # type: ignore[no-untyped-def]
    query = scope_cases(select(Case, Resident).outerjoin(Resident, Resident.openid == Case.openid), current_user)
    if f["q"]:
        query = query.where(Case.number.contains(f["q"]))
    if f["status"] in STATUSES:
        query = query.where(Case.status == f["status"])
    if f["intent"]:
        query = query.where(or_(Case.intent == f["intent"], Case.also.contains(f["intent"])))
    if f["community"].isdigit():
        query = query.where(Case.community_id == int(f["community"]))
    if f["compound"].isdigit():
        query = query.where(Case.compound_id == int(f["compound"]))
    if f["overdue"]:
        query = query.where(Case.status.in_(OPEN_STATUSES), Case.due_at <= now)
    if f["reopened"]:
        query = query.where(Case.reopen_count > 0)
    return query.order_by(Case.created_at.desc()).limit(PAGE)


@bp.get("/")
@login_required
def home() -> Response:
    """The console starts at the case list."""
    return redirect(url_for("console_cases.index"))


@bp.get("/cases")
@login_required
def index() -> str | Response:
    """The case list; an exact case number in the search box opens the case."""
    session, now = get_db(), utcnow()
    f = _filters(request.args)
    rows = session.execute(_query(f, now)).all()
    if f["q"] and len(rows) == 1 and rows[0][0].number == f["q"]:
        return redirect(url_for("console_cases.show", number=f["q"]))
    communities = session.scalars(select(Community).order_by(Community.name)).all()
    compounds = session.scalars(select(Compound).order_by(Compound.name)).all()
    intents = services(current_app).classifier.intents  # the loaded intents: keywords.yaml may add some
    return render_template("console/cases.html", rows=rows, f=f, now=now, statuses=STATUSES,
                           intents=intents, communities=communities, compounds=compounds, page=PAGE)


def visible_case(number: str) -> Case:
    """The case with this number if the user may see it; 404 otherwise (no hint that it exists)."""
    case = get_db().scalars(select(Case).where(Case.number == number)).one_or_none()
    if case is None or not may_see(case, current_user):
        abort(404)
    return case


def _photos(case: Case, talk: list[Line]) -> list[tuple[datetime, str | None]]:
    """Photos attached to the case (audit events) and sent in its conversation, once each, by time."""
    seen: dict[str, tuple[datetime, str | None]] = {}
    for e in case.events:
        if e.kind == "photo" and e.data:
            seen.setdefault(e.data.get("MediaId") or f"e{e.id}", (e.created_at, e.data.get("PicUrl")))
    for line in talk:
        if line.kind == "image":
            seen.setdefault(line.text, (line.at, line.url))
    return sorted(seen.values(), key=lambda p: p[0])


@bp.get("/cases/<number>")
@login_required
def show(number: str) -> str:
    """One case: details, resident, conversation, photos, audit trail, linked cases, actions."""
    session, now = get_db(), utcnow()
    case = visible_case(number)
    resident = session.scalars(select(Resident).where(Resident.openid == case.openid)).one_or_none()
    linked: list[Case] = []
    if case.group_id is not None:
        query = select(Case).where(Case.group_id == case.group_id, Case.id != case.id).order_by(Case.id)
        linked = list(session.scalars(scope_cases(query, current_user)))
    talk = conversation(session, case)
    photos = _photos(case, talk)
    actions = [a for a in ("accept", "resolve", "reopen") if case.status in TRANSITIONS[a][0]]
    return render_template("console/case.html", case=case, resident=resident, linked=linked, talk=talk,
                           photos=photos, actions=actions, departments=CASE_DEPARTMENTS, now=now,
                           in_window=in_service_window(resident, now))
