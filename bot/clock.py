"""Time helpers: naive UTC inside, Asia/Shanghai for people."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """The current time as naive UTC (how the database stores it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(dt: datetime) -> datetime:
    """A stored naive-UTC time as Asia/Shanghai."""
    return dt.replace(tzinfo=UTC).astimezone(LOCAL)


def fmt_local(dt: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time formatted for people, in Asia/Shanghai."""
    return to_local(dt).strftime(pattern) if dt else ""


def parse_local(text: str) -> datetime:
    """'YYYY-MM-DD HH:MM' in Asia/Shanghai to naive UTC."""
    local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=LOCAL)
    return local.astimezone(UTC).replace(tzinfo=None)
