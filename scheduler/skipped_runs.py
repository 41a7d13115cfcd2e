"""APScheduler's "maximum number of running instances reached" line, once a minute per job.

A job polled every second that runs long (a 10,000-message broadcast takes minutes) makes APScheduler
skip its due runs and warn about each one: sixty identical lines a minute. Skipping is what we want
(max_instances=1, coalesce), so the first skip of a job is logged, then one line a minute with how
many runs were skipped since; every other APScheduler warning passes untouched.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

APSCHEDULER_LOGGER = "apscheduler.scheduler"
EVERY = 60.0  # seconds between two lines about the same job


class SkippedRuns(logging.Filter):
    """Lets one skipped-run warning per job through every `every` seconds, counting the others."""

    def __init__(self, every: float = EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every = every
        self._clock = clock
        self._last: dict[str, float] = {}
        self.skipped: dict[str, int] = {}  # skipped-run lines held back since the last one let through
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a repeat of the same job's skipped-run line within `every` seconds."""
        if "maximum number of running instances" not in str(record.msg) or not record.args:
            return True
        first = record.args[0] if isinstance(record.args, tuple) else record.args
        job = str(getattr(first, "id", first))  # the Job's id: its str() carries the next run time
        with self._lock:
            now = self._clock()
            if now - self._last.get(job, -float("inf")) < self.every:
                self.skipped[job] = self.skipped.get(job, 0) + 1
                return False
            self._last[job] = now
            held, self.skipped[job] = self.skipped.get(job, 0), 0
        if held:
            record.msg = f"{record.msg} (and {held} more such runs in the last {self.every:.0f} s)"
        return True


SKIPPED_RUNS = SkippedRuns()


def install() -> logging.Logger:
    """The logger the running scheduler gives APScheduler, with the filter on it (added once)."""
    logger = logging.getLogger(APSCHEDULER_LOGGER)
    logger.addFilter(SKIPPED_RUNS)  # a no-op when already there
    return logger
