"""User management for admins: list, add (staff unless admin is chosen), edit, disable, reset a password."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from bot.clock import utcnow
from bot.constants import CASE_DEPARTMENTS
from bot.domain import users
from bot.errors import MulinError
from bot.services import services
from bot.storage.models import Community, Staff, User
from bot.web.console import throttle
from bot.web.console.access import admin_required, login_required
from bot.web.request_session import get_db

bp = Blueprint("console_admin", __name__, url_prefix="/console")


def _communities() -> list[Community]:
    return list(get_db().scalars(select(Community).order_by(Community.name)))


@bp.get("/users")
@login_required
@admin_required
def index() -> str:
    """Every console user (never their password hashes) and the form for a new one."""
    rows = get_db().scalars(select(User).order_by(User.username)).all()
    communities = _communities()
    store = services(current_app).redis
    locked = {u.id for u in rows if throttle.locked_anywhere(store, u.username)}
    bound = set(get_db().scalars(select(Staff.user_id).where(Staff.user_id.is_not(None))))  # 我的微信
    return render_template("console/users.html", rows=rows, communities=communities,
                           names={c.id: c.name for c in communities}, departments=CASE_DEPARTMENTS,
                           roles=users.ROLES, locked=locked, bound=bound)


@bp.post("/users")
@login_required
@admin_required
def create() -> Response:
    """Add a user; without a role chosen, staff (the least privileged)."""
    session, form = get_db(), request.form
    try:
        user = users.create_user(session, username=form.get("username", ""), password=form.get("password", ""),
                                 role=form.get("role") or "staff", now=utcnow(),
                                 department=form.get("department") or None, community=form.get("community") or None)
    except MulinError as exc:
        session.rollback()
        flash("user_invalid", "error")
        flash(str(exc), "detail")  # the reason, in Chinese
        return redirect(url_for("console_admin.index"))
    session.commit()
    _audit("created", user)
    flash("done_user", "ok")
    return redirect(url_for("console_admin.index"))


def _user(user_id: int) -> User:
    user = get_db().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _audit(change: str, user: User) -> None:
    """Who changed which user how (never a password)."""
    current_app.logger.info("console: admin %r %s user %r (role=%s department=%s community_id=%s disabled=%s)",
                            current_user.username, change, user.username, user.role, user.department,
                            user.community_id, user.disabled)


@bp.get("/users/<int:user_id>")
@login_required
@admin_required
def show(user_id: int) -> str:
    """One user: the edit form, a new password, disable or enable."""
    return render_template("console/user.html", user=_user(user_id), communities=_communities(),
                           departments=CASE_DEPARTMENTS, roles=users.ROLES, me=current_user.id == user_id)


def _apply(user_id: int, change: str, apply: Callable[[User], None], refused: str = "user_invalid") -> Response:
    """Apply a change to a user, commit and audit it; a refused change is flashed and nothing kept."""
    session = get_db()
    user = _user(user_id)
    try:
        apply(user)
        session.flush()
    except MulinError:
        session.rollback()
        flash(refused, "error")
        return redirect(url_for("console_admin.show", user_id=user_id))
    session.commit()
    _audit(change, user)
    flash(f"done_user_{change.replace(' ', '_')}", "ok")
    return redirect(url_for("console_admin.index"))


def _not_me(user_id: int) -> None:
    """An admin may not lock themselves out (disable, demote): another admin must."""
    if user_id == current_user.id:
        flash("user_not_yourself", "error")
        abort(redirect(url_for("console_admin.show", user_id=user_id)))


@bp.post("/users/<int:user_id>/edit")
@login_required
@admin_required
def edit(user_id: int) -> Response:
    """Change role, department and community (the user's sessions end, the new scope applies at once)."""
    form = request.form
    if form.get("role") != "admin":
        _not_me(user_id)
    return _apply(user_id, "edited", lambda user: users.edit_user(
        get_db(), user, role=form.get("role") or "staff", department=form.get("department") or None,
        community=form.get("community") or None), refused="user_edit_invalid")


@bp.post("/users/<int:user_id>/password")
@login_required
@admin_required
def password(user_id: int) -> Response:
    """Set a new password (told to the user by the admin); every session of the user ends."""
    new = request.form.get("password", "")
    return _apply(user_id, "reset password of", lambda user: users.reset_password(user, new),
                  refused="password_invalid")


@bp.post("/users/<int:user_id>/disable")
@login_required
@admin_required
def disable(user_id: int) -> Response:
    """Stop the user logging in; their sessions end at once."""
    _not_me(user_id)
    return _apply(user_id, "disabled", lambda user: users.set_disabled(user, True))


@bp.post("/users/<int:user_id>/enable")
@login_required
@admin_required
def enable(user_id: int) -> Response:
    """Let a disabled user log in again."""
    return _apply(user_id, "enabled", lambda user: users.set_disabled(user, False))


@bp.post("/users/<int:user_id>/unlock")
@login_required
@admin_required
def unlock(user_id: int) -> Response:
    """Lift every address's lockout of this user before it runs out."""
    user = _user(user_id)
    throttle.unlock(services(current_app).redis, user.username)
    _audit("unlocked", user)
    flash("done_unlock", "ok")
    return redirect(url_for("console_admin.index"))
