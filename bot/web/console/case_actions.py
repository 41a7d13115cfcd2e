"""Case actions from the console: accept, resolve, reopen, reply to the resident, internal note, reassign,
assign to a person (我来办 / a colleague)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from bot.clock import utcnow
from bot.constants import CASE_DEPARTMENTS, Purpose
from bot.domain import cases, users
from bot.errors import InvalidTransition
from bot.messaging import outbox
from bot.web.console.access import login_required
from bot.web.console.cases import bp, visible_case
from bot.web.console.conversation import REPLY_KEY
from bot.web.request_session import get_db

MAX_REPLY = 600


def _back(number: str) -> Response:
    return redirect(url_for("console_cases.show", number=number))


@bp.post("/cases/<number>/<action>")
@login_required
def act(number: str, action: str) -> Response:
    """Accept, resolve (with a note) or reopen the case; written to the audit trail with the user's name."""
    if action not in ("accept", "resolve", "reopen"):
        abort(404)
    session = get_db()
    case = visible_case(number)
    note = request.form.get("note", "").strip() or None
    try:
        cases.transition(session, case, action, actor=current_user.username, now=utcnow(), note=note)
    except InvalidTransition:
        session.rollback()
        flash("invalid_transition", "error")
        return _back(number)
    session.commit()
    current_app.logger.info("console: %s %s case id %s", current_user.username, action, case.id)
    flash(f"done_{action}", "ok")
    return _back(number)


@bp.post("/cases/<number>/reply")
@login_required
def reply(number: str) -> Response:
    """Send the resident a message through the outbox (custom or template, decided at send time)."""
    session, now = get_db(), utcnow()
    case = visible_case(number)
    text = request.form.get("text", "").strip()
    if not text or len(text) > MAX_REPLY:
        flash("reply_invalid", "error")
        return _back(number)
    event = cases.add_event(session, case, "reply", actor=current_user.username, now=now, note=text)
    outbox.enqueue(session, key=f"{REPLY_KEY}:{case.id}:{event.id}", openid=case.openid, purpose=Purpose.REPLY,
                   text=text, now=now, case_id=case.id)
    session.commit()
    flash("done_reply", "ok")
    return _back(number)


@bp.post("/cases/<number>/note")
@login_required
def note(number: str) -> Response:
    """An internal note on the case: in its audit trail for colleagues, never sent to the resident."""
    session = get_db()
    case = visible_case(number)
    text = request.form.get("text", "").strip()
    if not text or len(text) > MAX_REPLY:
        flash("note_invalid", "error")
        return _back(number)
    cases.add_event(session, case, "note", actor=current_user.username, now=utcnow(), note=text)
    session.commit()
    flash("done_note", "ok")
    return _back(number)


@bp.post("/cases/<number>/reassign")
@login_required
def reassign(number: str) -> Response:
    """Move the case to another department (staff then lose sight of it unless it is theirs)."""
    session = get_db()
    case = visible_case(number)
    department = request.form.get("department", "")
    if department not in CASE_DEPARTMENTS or department == case.department:
        flash("reassign_invalid", "error")
        return _back(number)
    cases.reassign(session, case, department, actor=current_user.username, now=utcnow(),
                   note=request.form.get("note", "").strip() or None)
    session.commit()
    flash("done_reassign", "ok")
    if current_user.is_admin:
        return _back(number)
    return redirect(url_for("console_cases.index"))


@bp.post("/cases/<number>/assign")
@login_required
def assign(number: str) -> Response:
    """Give the case to the user themself ("me": 我来办), to a colleague who may see it (their id), or to
    nobody (empty); audited."""
    session = get_db()
    case = visible_case(number)
    choice = request.form.get("assignee", "").strip()
    user = None
    if choice:
        wanted = current_user.id if choice == "me" else int(choice) if choice.isdigit() else None
        user = next((u for u in users.colleagues(session, case) if u.id == wanted), None)
        if user is None:
            flash("assign_invalid", "error")
            return _back(number)
    if user is None and case.assignee_id is None or user is not None and user.id == case.assignee_id:
        flash("assign_invalid", "error")
        return _back(number)
    cases.assign(session, case, user, actor=current_user.username, now=utcnow())
    session.commit()
    flash("done_assign", "ok")
    return _back(number)
