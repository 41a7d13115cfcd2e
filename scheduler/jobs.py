"""The scheduler's jobs: plain functions of (app, now), each idempotent, in an explicit table.

Every job looks at the database and does what is due at `now`, so running it
again (or late, with --once --now) never sends anything twice.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask

from bot.clock import utcnow
from bot.constants import BULK_PURPOSES
from bot.messaging import inbound_spool, outbox
from bot.services import services
from scheduler import (
    consult_jobs,
    followup_jobs,
    media_jobs,
    mulinfang_jobs,
    notice_jobs,
    overdue_jobs,
    receipt_jobs,
    retention_jobs,
    staff_alert_jobs,
    summary_jobs,
)
from scheduler import replay_jobs as inbound_replay


@dataclass(frozen=True)
class Job:
    """A job id, how often the running scheduler polls it, and what it does."""

    id: str
    seconds: float
    run: Callable[[Flask, datetime], dict[str, Any]]


BULK = BULK_PURPOSES  # drained in their own job so a 10,000-resident notice never delays a reply


def _drain(app: Flask, now: datetime, rate: str, **scope: Any) -> dict[str, Any]:
    svc = services(app)

    def stop() -> bool:  # asked before each send: SIGTERM, or the lock went to another scheduler
        return svc.stop.is_set() or not svc.holds_lock()

    result = outbox.drain(
        svc.sessions, svc.gateway, now,
        templates=app.config["TEMPLATE_IDS"], rate=float(app.config[rate]),
        batch=int(app.config["OUTBOX_BATCH"]), max_attempts=int(app.config["OUTBOX_MAX_ATTEMPTS"]),
        stop=stop, **scope,
    )
    return vars(result)


def drain_outbox(app: Flask, now: datetime) -> dict[str, Any]:
    """Send what is due in the outbox: replies, status updates, staff notices (REPLY_RATE_PER_SECOND).
    Paced apart from notices: after a burst, hundreds of late answers must not trickle out at the notice pace."""
    return _drain(app, now, "REPLY_RATE_PER_SECOND", exclude=BULK)


def drain_bulk(app: Flask, now: datetime) -> dict[str, Any]:
    """Send due bulk messages (cleanup notices), paced at SEND_RATE_PER_SECOND."""
    return _drain(app, now, "SEND_RATE_PER_SECOND", purposes=BULK)


def store_spooled(app: Flask, now: datetime) -> dict[str, Any]:
    """Move messages kept in Redis while the database was locked into the database, as queued."""
    with services(app).sessions() as session:
        return {"stored": inbound_spool.flush(session, services(app).redis)}


REPLAY_RUN = 10.0  # seconds a run of the job goes on while a flood's queue lasts (then it logs and starts anew)


def replay_inbound(app: Flask, now: datetime) -> dict[str, Any]:
    """Answer messages queued in a burst, or stored while Redis was down or a worker crashed. One pass of
    inbound_replay.replay ends within its budget (its claims are as of its start); while passes still answer,
    the next starts at once, as of its own start, instead of waiting for the next tick (a third of the time)."""
    svc, started, answered = services(app), time.monotonic(), 0
    while True:
        count = inbound_replay.replay(app, now)
        answered += count
        if count == 0 or svc.stop.is_set() or not svc.holds_lock() or time.monotonic() - started > REPLAY_RUN:
            return {"replayed": answered}
        now = utcnow()


# Jobs that create outbox rows come before the drains, so one --once run also sends them.
JOBS: tuple[Job, ...] = (
    Job("mulinfang_notice", 30, mulinfang_jobs.notices_first),  # before the fan-out: the groups hear first
    Job("notice_fanout", 30, notice_jobs.fan_out),
    Job("consult", 30, consult_jobs.run),
    Job("followup", 60, followup_jobs.run),
    Job("overdue", 60, overdue_jobs.run),
    Job("summary", 300, summary_jobs.run),
    Job("staff_alerts", 15, staff_alert_jobs.run),
    Job("outbox", 1, drain_outbox),
    Job("outbox_bulk", 5, drain_bulk),
    Job("early_receipts", 5, receipt_jobs.run),  # after the drains: a receipt that beat its msgid is set
    Job("inbound_spool", 1, store_spooled),
    Job("inbound_replay", 1, replay_inbound),
    Job("inbound_retention", 3600, retention_jobs.run),
    Job("media", 10, media_jobs.run),  # residents' photos and voice, kept before WeChat's 3 days are over
)
