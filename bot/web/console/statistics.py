"""The statistics page: the three rates for a period, by community / intent / month, charts and CSV."""
from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_login import current_user
from sqlalchemy import select

from bot.clock import LOCAL, to_local, utcnow
from bot.domain import stats
from bot.storage.models import Community
from bot.web.console.access import login_required
from bot.web.console.charts import bar_chart
from bot.web.request_session import get_db

bp = Blueprint("console_stats", __name__, url_prefix="/console")

DEFAULT_DAYS = 30
RATE_FIELDS = ("response_rate", "resolution_rate", "satisfaction_rate")


def _day(raw: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else fallback
    except ValueError:
        return fallback


def _utc(day: date) -> datetime:
    """Midnight of a Beijing day as naive UTC."""
    return datetime.combine(day, time(), LOCAL).astimezone(UTC).replace(tzinfo=None)


def period(args: Any, now: datetime) -> tuple[date, date, datetime, datetime]:
    """The chosen period as Beijing days (end inclusive) and as a naive-UTC [start, end) range."""
    today = to_local(now).date()
    last = _day(args.get("end"), today)
    first = _day(args.get("start"), last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        first, last = last, first
    return first, last, _utc(first), _utc(last + timedelta(days=1))


def figures(args: Any, community_id: int | None) -> dict[str, Any]:
    """Totals and the breakdown for the request's period and grouping."""
    session, now = get_db(), utcnow()
    first, last, start, end = period(args, now)
    by = args.get("by") if args.get("by") in stats.GROUPINGS else "community"
    totals = stats.compute(session, start, end, community_id=community_id, now=now)
    rows = stats.breakdown(session, start, end, by, now, community_id=community_id)
    return {"first": first, "last": last, "by": by, "totals": totals, "rows": rows, "now": now}


def _scope() -> int | None:
    """Staff of one community see its figures only; admins may pick one."""
    if not current_user.is_admin and current_user.community_id is not None:
        return int(current_user.community_id)
    raw = request.args.get("community", "")
    return int(raw) if raw.isdigit() else None


@bp.get("/stats")
@login_required
def index() -> str:
    """Figures, charts and a table for the period."""
    data = figures(request.args, _scope())
    charts = {name: bar_chart([(key, getattr(r, name)) for key, r in data["rows"]], top=1.0)
              for name in RATE_FIELDS}
    charts["received"] = bar_chart([(key, float(r.received)) for key, r in data["rows"]])
    communities = get_db().scalars(select(Community).order_by(Community.name)).all()
    return render_template("console/stats.html", charts=charts, communities=communities,
                           community=request.args.get("community", ""), **data)


@bp.get("/stats.csv")
@login_required
def export() -> Response:
    """The same figures as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese)."""
    data = figures(request.args, _scope())
    rows = [(key, asdict(r)) for key, r in data["rows"]]
    body = "\ufeff" + render_template("console/stats.csv", rows=rows, totals=asdict(data["totals"]), **{
        k: v for k, v in data.items() if k not in ("rows", "totals")})
    name = f"mulin-stats-{data['first']}-{data['last']}-{data['by']}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
