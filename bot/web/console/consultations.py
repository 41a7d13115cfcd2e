"""Consultations (征求意见) in the console: the list, each one's results per building with turnout, and CSV.

Scoped like cases: staff limited to a community see only consultations put to their community.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import distinct, func, select
from werkzeug.wrappers import Response

from bot.domain import consultations
from bot.errors import NotFound
from bot.storage.models import Community, Consultation, ConsultationReply
from bot.web.console.access import login_required
from bot.web.request_session import get_db

bp = Blueprint("console_consultations", __name__, url_prefix="/console")


def _visible(consultation: Consultation) -> bool:
    if current_user.is_admin or current_user.community_id is None:
        return True
    own = get_db().get(Community, current_user.community_id)
    return own is not None and consultation.target.get("community") == own.name


def _consultation(consultation_id: int) -> Consultation:
    try:
        consultation = consultations.get_consultation(get_db(), consultation_id)
    except NotFound:
        abort(404)
    if not _visible(consultation):
        abort(404)
    return consultation


@bp.get("/consultations")
@login_required
def index() -> str:
    """Every consultation the user may see, newest first, with the households that answered."""
    session = get_db()
    answered = dict(session.execute(  # one grouped count for the list; the full tally is on each one's page
        select(ConsultationReply.consultation_id, func.count(distinct(ConsultationReply.household)))
        .group_by(ConsultationReply.consultation_id)).all())
    rows = [(c, answered.get(c.id, 0)) for c in consultations.list_consultations(session) if _visible(c)]
    return render_template("console/consultations.html", rows=rows)


@bp.get("/consultations/<int:consultation_id>")
@login_required
def show(consultation_id: int) -> str:
    """One consultation: question, options and results per building and overall."""
    consultation = _consultation(consultation_id)
    return render_template("console/consultation.html", c=consultation,
                           r=consultations.tally(get_db(), consultation))


@bp.get("/consultations/<int:consultation_id>.csv")
@login_required
def export(consultation_id: int) -> Response:
    """The results as CSV (per building and overall, UTF-8 with BOM for spreadsheet programs)."""
    consultation = _consultation(consultation_id)
    body = consultations.results_csv(consultations.tally(get_db(), consultation))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=mulin-consultation-{consultation.id}.csv"})
