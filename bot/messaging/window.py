"""WeChat's customer-service window: 48 hours after a resident's last interactive message."""
from __future__ import annotations

from datetime import datetime, timedelta

SERVICE_WINDOW = timedelta(hours=48)
# Events after which WeChat lets us send customer-service messages for 48 hours (besides every message written).
INTERACTIVE_EVENTS = frozenset({"subscribe", "subscribe_scan", "scan", "click"})


def opens_window(msg_type: str, event: str | None) -> bool:
    """Whether this message or event opens (renews) the window: anything the resident writes, and the events above."""
    return msg_type != "event" or event in INTERACTIVE_EVENTS


def in_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether a customer-service message may be sent now (otherwise a template message)."""
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW
