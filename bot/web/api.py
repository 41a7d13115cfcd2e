"""The JSON API for the district's platforms: cases and the three rates, with a bearer token."""
from __future__ import annotations

import hmac
from dataclasses import asdict
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import select

from bot.clock import utcnow
from bot.config import DEMO_API_TOKEN
from bot.domain import stats
from bot.clock import utcnow
from bot.constants import OPEN_STATUSES
from bot.storage.models import Case, CaseEvent, Community
from bot.web.console.statistics import period
from bot.web.request_session import get_db

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LIMIT = 500
LOOPBACK = ("127.0.0.1", "::1")
# Who acted, as a role: the token has no scope for staff usernames (nor for notes, which hold what residents
# typed and staff wrote back, phone numbers included).
SYSTEM_ACTORS = ("scheduler", "cli", "system")


@bp.before_request
def _authenticate() -> None:
    expected = current_app.config.get("API_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    given = header[len("Bearer "):] if header.startswith("Bearer ") else ""
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        abort(401)
    if expected == DEMO_API_TOKEN and request.remote_addr not in LOOPBACK:
        abort(401)  # the demo's published token opens nothing to the network


@bp.errorhandler(401)
def _unauthorized(_exc: Exception) -> tuple[Response, int]:
    return jsonify({"error": "unauthorized"}), 401


@bp.errorhandler(404)
def _not_found(_exc: Exception) -> tuple[Response, int]:
    return jsonify({"error": "not found"}), 404


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() + "Z" if dt else None


def case_json(case: Case, now: datetime) -> dict[str, Any]:
    """A case for other platforms: no phone numbers, no flat numbers, no resident's text."""
    return {
        "number": case.number, "intent": case.intent, "also": case.also.split(",") if case.also else [],
        "priority": case.priority, "department": case.department, "status": case.status,
        "community": case.community.name if case.community else None,
        "compound": case.compound.name if case.compound else None,
        "building": case.building.name if case.building else None,
        "created_at": _iso(case.created_at), "due_at": _iso(case.due_at),
        "first_response_at": _iso(case.first_response_at), "resolved_at": _iso(case.resolved_at),
        "closed_at": _iso(case.closed_at),
        "overdue": case.status in OPEN_STATUSES and case.due_at <= now,
        "reopen_count": case.reopen_count, "satisfaction": case.satisfaction, "solved": case.solved,
        "group_id": case.group_id,
    }


def _actor(actor: str) -> str:
    """resident, system (scheduler, CLI) or staff: never a username."""
    if actor == "resident":
        return "resident"
    return "system" if actor in SYSTEM_ACTORS else "staff"


def event_json(event: CaseEvent) -> dict[str, Any]:
    """An audit event for other platforms: what happened and when, no note, no username."""
    return {"kind": event.kind, "actor": _actor(event.actor), "at": _iso(event.created_at)}


def _int_arg(name: str, default: int, top: int) -> int:
    raw = request.args.get(name, "")
    return min(max(int(raw), 0), top) if raw.isdigit() else default


@bp.get("/cases")
def cases() -> Response:
    """Cases, newest first; filters: status, intent, community (name), limit, offset."""
    now, query = utcnow(), select(Case)
    args = request.args
    if args.get("status"):
        query = query.where(Case.status == args["status"])
    if args.get("intent"):
        query = query.where(Case.intent == args["intent"])
    if args.get("community"):
        query = query.join(Community, Community.id == Case.community_id).where(Community.name == args["community"])
    query = query.order_by(Case.id.desc()).limit(_int_arg("limit", 100, MAX_LIMIT)).offset(
        _int_arg("offset", 0, 10 ** 9))
    return jsonify({"cases": [case_json(c, now) for c in get_db().scalars(query)]})


@bp.get("/cases/<number>")
def case(number: str) -> Response:
    """One case with its audit trail (what happened and when; no notes, no usernames)."""
    found = get_db().scalars(select(Case).where(Case.number == number)).one_or_none()
    if found is None:
        abort(404)
    return jsonify({**case_json(found, utcnow()), "events": [event_json(e) for e in found.events]})


@bp.get("/stats")
def rates() -> Response:
    """The three rates for a period (start/end: Beijing dates, end inclusive), optionally grouped by=."""
    session, now = get_db(), utcnow()
    first, last, start, end = period(request.args, now)
    community_id = None
    if request.args.get("community"):
        community_id = session.scalar(select(Community.id).where(Community.name == request.args["community"]))
        if community_id is None:
            abort(404)
    body: dict[str, Any] = {"start": first.isoformat(), "end": last.isoformat(),
                            "totals": asdict(stats.compute(session, start, end, community_id=community_id,
                                                           intent=request.args.get("intent") or None, now=now))}
    if request.args.get("by") in stats.GROUPINGS:
        body["by"] = request.args["by"]
        body["groups"] = [{"key": key, **asdict(r)} for key, r in
                          stats.breakdown(session, start, end, request.args["by"], now, community_id=community_id)]
    return jsonify(body)
