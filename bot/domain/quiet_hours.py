"""Quiet hours (QUIET_HOURS, Asia/Shanghai, e.g. "21:00-08:00"): when non-urgent staff alerts and cleanup
notices wait. Only 特急 alerts go out then; what waited goes at the end of the quiet hours."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.clock import LOCAL, to_local


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end` local time (across midnight when end < start); None: never quiet."""

    start: time | None = None
    end: time | None = None

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """ "21:00-08:00" (or "21-8"); empty, or start equal to end: no quiet hours. ValueError otherwise."""
        text = (text or "").strip().replace("：", ":").replace("—", "-").replace("~", "-")
        if not text:
            return cls()
        start, end = (cls._time(part) for part in text.split("-", 1))
        return cls() if start == end else cls(start, end)

    @staticmethod
    def _time(part: str) -> time:
        hour, _, minute = part.strip().partition(":")
        return time(int(hour), int(minute or 0))

    def quiet(self, now: datetime) -> bool:
        """Whether the naive-UTC `now` falls inside the quiet hours."""
        if self.start is None or self.end is None:
            return False
        local = to_local(now).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, at: datetime) -> datetime:
        """`at` itself when it is not quiet, else the end of these quiet hours (naive UTC)."""
        if not self.quiet(at) or self.end is None:
            return at
        local = to_local(at)
        end = datetime.combine(local.date(), self.end, tzinfo=LOCAL)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC).replace(tzinfo=None)
