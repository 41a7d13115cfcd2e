"""The scheduler's jobs: plain functions of (app, now), each idempotent, in an explicit table.

Every job looks at the database and does what is due at `now`, so running it
again (or late, with --once --now) never sends anything twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from flask import Flask

from bot import inbound_replay, outbox


@dataclass(frozen=True)
class Job:
    """A job id, how often the running scheduler polls it, and what it does."""

    id: str
    seconds: int
    run: Callable[[Flask, datetime], dict[str, Any]]


def drain_outbox(app: Flask, now: datetime) -> dict[str, Any]:
    """Send what is due in the outbox."""
    result = outbox.drain(
        app.extensions["mulin.db"], app.extensions["mulin.gateway"], now,
        templates=app.config["TEMPLATE_IDS"], rate=float(app.config["SEND_RATE_PER_SECOND"]),
        batch=int(app.config["OUTBOX_BATCH"]), max_attempts=int(app.config["OUTBOX_MAX_ATTEMPTS"]),
    )
    return vars(result)


def replay_inbound(app: Flask, now: datetime) -> dict[str, Any]:
    """Handle messages stored while Redis was down or a worker crashed; reply through the outbox."""
    return {"replayed": inbound_replay.replay(app, now)}


JOBS: tuple[Job, ...] = (
    Job("outbox", 5, drain_outbox),
    Job("inbound_replay", 60, replay_inbound),
)
