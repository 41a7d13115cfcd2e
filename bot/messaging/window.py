"""WeChat's customer-service window: 48 hours after a resident's last interactive message."""
from __future__ import annotations

from datetime import datetime, timedelta

SERVICE_WINDOW = timedelta(hours=48)


def in_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether a customer-service message may be sent now (otherwise a template message)."""
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW
