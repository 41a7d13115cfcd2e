"""User management for admins: list console users and add one."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from bot.domain import users
from bot.clock import utcnow
from bot.web.console.access import admin_required, login_required
from bot.web.request_session import get_db
from bot.errors import MulinError
from bot.services import services
from bot.web.console import throttle
from bot.storage.models import Community, User
from bot.constants import CASE_DEPARTMENTS

bp = Blueprint("console_admin", __name__, url_prefix="/console")


@bp.get("/users")
@login_required
@admin_required
def index() -> str:
    """Every console user (never their password hashes) and the form for a new one."""
    session = get_db()
    rows = session.scalars(select(User).order_by(User.username)).all()
    communities = session.scalars(select(Community).order_by(Community.name)).all()
    names = {c.id: c.name for c in communities}
    store = services(current_app).redis
    locked = {u.id for u in rows if throttle.locked_anywhere(store, u.username)}
    return render_template("console/users.html", rows=rows, communities=communities, names=names,
                           departments=CASE_DEPARTMENTS, roles=users.ROLES, locked=locked)


@bp.post("/users")
@login_required
@admin_required
def create() -> Response:
    """Add a user with the given role, department and community."""
    session, form = get_db(), request.form
    try:
        users.create_user(session, username=form.get("username", ""), password=form.get("password", ""),
                          role=form.get("role", ""), now=utcnow(), department=form.get("department") or None,
                          community=form.get("community") or None)
    except MulinError:
        session.rollback()
        flash("user_invalid", "error")
        return redirect(url_for("console_admin.index"))
    session.commit()
    flash("done_user", "ok")
    return redirect(url_for("console_admin.index"))


@bp.post("/users/<int:user_id>/unlock")
@login_required
@admin_required
def unlock(user_id: int) -> Response:
    """Lift every address's lockout of this user before it runs out."""
    user = get_db().get(User, user_id)
    if user is not None:
        throttle.unlock(services(current_app).redis, user.username)
        flash("done_unlock", "ok")
    return redirect(url_for("console_admin.index"))
