"""Renovation projects (老旧小区整治) in the console: the list, and each project with its phases, the places
it touches, its linked cases (施工扰民) and their three rates.

Scoped like cases: staff limited to a community see projects touching their community, and of the linked
cases those they may see.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from bot.clock import utcnow
from bot.domain import projects, stats
from bot.errors import NotFound
from bot.storage.models import Project
from bot.web.console.access import login_required, may_see
from bot.web.request_session import get_db

bp = Blueprint("console_projects", __name__, url_prefix="/console")


def _visible(project: Project) -> bool:
    if current_user.is_admin or current_user.community_id is None:
        return True
    return any(p.compound is not None and p.compound.community_id == current_user.community_id
               for p in project.places)


@bp.get("/projects")
@login_required
def index() -> str:
    """Every project the user may see, newest first, with where it stands today."""
    day = projects.today(utcnow())
    rows = [(p, projects.stage(p, day), projects.current_phase(p, day) or projects.next_phase(p, day))
            for p in projects.list_projects(get_db()) if _visible(p)]
    return render_template("console/projects.html", rows=rows)


@bp.get("/projects/<int:project_id>")
@login_required
def show(project_id: int) -> str:
    """One project: phases, places, linked cases and their three rates."""
    session, now = get_db(), utcnow()
    try:
        project = projects.get_project(session, project_id)
    except NotFound:
        abort(404)
    if not _visible(project):
        abort(404)
    cases = [c for c in projects.cases_of(session, project) if may_see(c, current_user)]
    day = projects.today(now)
    return render_template("console/project.html", p=project, cases=cases, rates=stats.rates_of(cases, now),
                           stage=projects.stage(project, day), current=projects.current_phase(project, day))
