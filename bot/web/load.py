"""How busy this web worker is, to shed the webhook's load before WeChat's deadline.

Answering a report inline (classify, open a case, tell staff) costs a few milliseconds. In a
burst (a notice goes out and hundreds of residents reply at once) requests would queue behind
each other past WeChat's 5-second deadline, WeChat would retry, and the retries would queue
too. The gauge keeps a decaying sum of the seconds this process spent answering requests (the
whole WSGI call, Flask's own work included, over about the last half second); once that exceeds
`limit` of the recent wall time, new messages are only stored (queued) and acknowledged, and the
scheduler answers them moments later as customer-service messages. While the burst lasts even
the cheap queued requests keep the worker busy (about two thirds of its time is inside the WSGI
call, the rest is gunicorn's HTTP work), so it keeps queuing; when the burst ebbs, answers are
inline again. Measuring only the view (under half of a queued request's time) made a saturated
worker hover at the limit and answer every so often inline, each answer costing as much as
twenty queued messages.

Per process and lock-protected, so it needs no shared state and works with threaded workers.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from bot.services import services

log = logging.getLogger(__name__)
LOG_EVERY = 60.0  # seconds: a burst is logged, not every message of it


class LoadGauge:
    """A decaying measure of the share of recent time spent answering requests."""

    def __init__(self, limit: float, window: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._busy = 0.0  # decayed seconds spent in webhook requests
        self._at = clock()
        self._lock = threading.Lock()
        self._logged_at = -math.inf

    def _decay(self) -> float:
        now = self._clock()
        self._busy *= math.exp(-max(0.0, now - self._at) / self.window)
        self._at = now
        return self._busy

    def share(self) -> float:
        """The recent share of wall time spent in webhook requests (about 0 idle, 1 saturated)."""
        with self._lock:
            return self._decay() / self.window

    def overloaded(self) -> bool:
        """Whether the next message should be queued instead of answered inline."""
        if self.limit >= 1:  # a saturated worker reaches a share of 1: "1" must mean never
            return False
        share = self.share()
        if share < self.limit:
            return False
        now = self._clock()
        if now - self._logged_at >= LOG_EVERY:
            self._logged_at = now
            log.warning("webhook busy (%.0f%% of recent time): new messages are queued for the scheduler", share * 100)
        return True

    def add(self, seconds: float) -> None:
        """Record the time one webhook request took."""
        with self._lock:
            self._decay()
            self._busy += seconds


WEBHOOK = "/wechat"


def init_app(app: Flask) -> None:
    """Count every webhook request's time towards the app's gauge."""
    app.wsgi_app = _Timed(app.wsgi_app, app)  # type: ignore[method-assign]


class _Timed:
    """WSGI middleware: the whole of each /wechat request counts, not only the view. Console, login and
    API requests do not: a login flood must not push residents' messages into the queue."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], app: Flask) -> None:
        self._wsgi_app = wsgi_app
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != WEBHOOK:
            return self._wsgi_app(environ, start_response)
        started = time.monotonic()
        try:
            return self._wsgi_app(environ, start_response)
        finally:
            services(self._app).load.add(time.monotonic() - started)
