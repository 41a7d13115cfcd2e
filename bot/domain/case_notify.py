"""Staff notifications about cases, through the outbox (one row per staff member and event).

The recipients are the `Staff` rows of the department and community: those `import-staff` set up and those
console users made by binding their WeChat ("绑定 123456", bot/domain/staff_binding.py). A 特急 case's alert
is sent at once, and so are a resident's own words to the staff holding a case after 人工 (kind "message": a
conversation, not an alert); any other alert is held in the outbox and told in the recipient's next summary
(scheduler/staff_alert_jobs.py: at most one every STAFF_ALERT_MINUTES, none in QUIET_HOURS)."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from bot.clock import fmt_local
from bot.constants import OutboxStatus, Priority, Purpose
from bot.messaging import outbox
from bot.messaging.texts import label, render_text
from bot.storage import static_rows
from bot.storage.models import Case

log = logging.getLogger(__name__)
FALLBACK_DEPARTMENT = "community"  # the street's duty staff hear of cases nobody else would
AT_ONCE_KINDS = frozenset({"message"})  # a resident writing to the person who has their case (after 人工)


def notify_department(session: Session, case: Case, now: datetime, kind: str = "new") -> int:
    """Tell the staff of the case's department (its community's and street-wide) through the outbox."""
    return notify(session, case, case.department, now, kind)


def _staff(session: Session, department: str, community_id: int | None) -> list[str]:
    """The openids of the department's staff of the community and street-wide, one per Staff row, in row order
    (this process's copy of the staff list: no query on the usual path, bot.storage.static_rows.staff)."""
    return [openid for _, openid, dept, community in static_rows.staff(session)
            if dept == department and (community is None or community == community_id)]


def notify(session: Session, case: Case, department: str, now: datetime, kind: str, note: str | None = None) -> int:
    """Tell one department's staff (its community's and street-wide) about the case; returns the count.
    `note`: what the resident just said (a chase, a message after 人工), shown under the case."""
    staff = _staff(session, department, case.community_id)
    if not staff and department != FALLBACK_DEPARTMENT:
        # nobody of that department for this place (e.g. no address yet): the street's duty staff
        log.warning("case %s: no %s staff to notify; telling the %s staff", case.id, department,
                    FALLBACK_DEPARTMENT)
        staff = _staff(session, FALLBACK_DEPARTMENT, case.community_id)
    base_kind = kind.split("-")[0]
    text = render_text("intake/staff_case", case=case, kind=base_kind,
                       intent=label("intent", case.intent), priority=label("priority", case.priority),
                       department=label("department", case.department), place=place(case),
                       due=fmt_local(case.due_at), note=note)
    at_once = case.priority == Priority.CRITICAL or base_kind in AT_ONCE_KINDS
    status = OutboxStatus.PENDING if at_once else OutboxStatus.HELD
    for openid in dict.fromkeys(staff):  # one alert per person (two Staff rows)
        outbox.enqueue_later(session, key=f"staff:{case.id}:{department}:{kind}:{openid}",
                             openid=openid, purpose=Purpose.STAFF, text=text, now=now, case_id=case.id,
                             status=status)
    return len(staff)


def place(case: Case) -> str:
    """The case's address for staff (never for logs)."""
    return render_text("intake/place", compound=case.compound.name if case.compound else "",
                       building=case.building.name if case.building else "",
                       unit=case.unit or "", room=case.room or "")
