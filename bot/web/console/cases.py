"""Case list (its query: bot/web/console/case_list.py) and case page (conversation, photos, audit trail, links)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from bot.clock import fmt_local, utcnow
from bot.constants import CASE_DEPARTMENTS, OPEN_STATUSES
from bot.domain import users
from bot.domain.cases import TRANSITIONS
from bot.domain.residents import in_service_window
from bot.messaging.texts import label
from bot.services import services
from bot.storage.models import Case, Community, Compound, Resident
from bot.web.console import canned_replies, case_export, case_list
from bot.web.console.access import login_required, may_see, scope_cases
from bot.web.console.conversation import Line, conversation
from bot.web.request_session import get_db

bp = Blueprint("console_cases", __name__, url_prefix="/console")

EXCERPT = 30  # characters of the complaint shown in the list
LIVE_LIMIT = 1

@bp.get("/")
@login_required
def home() -> Response:
    """The console starts at the case list."""
    return redirect(url_for("console_cases.index"))


@bp.get("/cases")
@login_required
def index() -> str | Response:
    """The case list, a page at a time with the total; a case number in the search box opens the case."""
    session, now = get_db(), utcnow()
    f = case_list.filters(request.args, staff=not current_user.is_admin)
    number = case_list.exact_number(f["q"])
    if number is not None:
        found = session.scalars(scope_cases(select(Case).where(Case.number == number), current_user)).first()
        if found is not None:
            return redirect(url_for("console_cases.show", number=number))
    raw_page = request.args.get("page", "")
    listing = case_list.page(session, current_user, f, int(raw_page) if raw_page.isdigit() else 1, now)
    communities_q, compounds_q = select(Community).order_by(Community.name), select(Compound).order_by(Compound.name)
    if current_user.community_id is not None:  # a community's staff filter by their own places only
        communities_q = communities_q.where(Community.id == current_user.community_id)
        compounds_q = compounds_q.where(Compound.community_id == current_user.community_id)
    communities, compounds = session.scalars(communities_q).all(), session.scalars(compounds_q).all()
    return render_template("console/cases.html", listing=listing, f=f, now=now, statuses=case_list.STATUSES,
                           intents=services(current_app).classifier.intents, priorities=case_list.PRIORITIES,
                           departments=CASE_DEPARTMENTS,
                           sorts=case_list.SORTS, communities=communities, compounds=compounds,
                           excerpt=EXCERPT)


@bp.get("/live.json")
@login_required
def live() -> Response:
    """What the header's badge polls: the user's open 特急 cases (how many, the newest) and waiting messages."""
    session = get_db()
    query = scope_cases(select(Case.number).where(Case.priority == "critical",
                                                  Case.status.in_(OPEN_STATUSES)), current_user)
    numbers = list(session.scalars(query.order_by(Case.id.desc()).limit(LIVE_LIMIT)))
    count = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return jsonify({"critical_open": count, "newest_critical": numbers[0] if numbers else None})


@bp.get("/cases.csv")
@login_required
def export() -> Response:
    """The filtered list (all pages, up to case_export.MAX_ROWS) as CSV."""
    now = utcnow()
    f = case_list.filters(request.args)
    body = case_export.to_csv(case_list.rows(get_db(), current_user, f, now, case_export.MAX_ROWS), now)
    name = f"mulin-cases-{fmt_local(now, '%Y%m%d-%H%M')}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"})


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
        if e.kind in ("photo", "group_photo") and e.data:  # group_photo: a 睦邻坊 member's on-site photo
            seen.setdefault(e.data.get("MediaId") or f"e{e.id}", (e.created_at, e.data.get("PicUrl")))
    for line in talk:
        if line.kind == "image":
            seen.setdefault(line.text, (line.at, line.url))
    return sorted(seen.values(), key=lambda p: p[0])


def _panel(case: Case, resident: Resident | None, now: datetime) -> dict[str, Any]:
    """What the 办理 panel shows: the actions the case's status allows, the departments, the reply channel."""
    return {"actions": [a for a in ("accept", "resolve", "reopen") if case.status in TRANSITIONS[a][0]],
            "departments": CASE_DEPARTMENTS, "in_window": in_service_window(resident, now),
            "colleagues": users.colleagues(get_db(), case), "canned": canned_replies.current()}


def _resident(case: Case) -> Resident | None:
    return get_db().scalars(select(Resident).where(Resident.openid == case.openid)).one_or_none()


@bp.get("/cases/<number>/live.json")
@login_required
def live_case(number: str) -> Response:
    """What an open case page polls: its conversation (new resident messages, each send's state), its status,
    and, when another clerk acted (state: status and department changed), the 办理 panel and audit trail."""
    case = visible_case(number)
    talk = conversation(get_db(), case)
    panel = render_template("console/_case_actions.html", case=case, **_panel(case, _resident(case), utcnow()))
    return jsonify({"status": case.status, "status_label": label("status", case.status), "lines": len(talk),
                    "chat": render_template("console/_chat.html", talk=talk),
                    "state": f"{case.status}:{case.department}", "actions": panel,
                    "department_label": label("department", case.department),
                    "events": render_template("console/_case_events.html", case=case)})


@bp.get("/cases/<number>")
@login_required
def show(number: str) -> str:
    """One case: details, resident, conversation, photos, audit trail, linked cases, actions."""
    session, now = get_db(), utcnow()
    case = visible_case(number)
    resident = _resident(case)
    linked: list[Case] = []
    if case.group_id is not None:
        query = select(Case).where(Case.group_id == case.group_id, Case.id != case.id).order_by(Case.id)
        linked = list(session.scalars(scope_cases(query, current_user)))
    talk = conversation(session, case)
    photos = _photos(case, talk)
    return render_template("console/case.html", case=case, resident=resident, linked=linked, talk=talk,
                           photos=photos, now=now, **_panel(case, resident, now))
