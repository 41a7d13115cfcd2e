"""Whether WeChat gives us an access_token: the last token-endpoint error, shared through Redis.

When the token endpoint refuses (40164: this server's IP is not on the whitelist, 40125: wrong
AppSecret, or it cannot be reached) no message can go out. Every process then backs off the token
endpoint (it has a daily quota too) and the outbox waits instead of failing its rows; the console
shows the alarm through `gateway_health`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

KEY = "mulin:wechat:token_error"
BACKOFF_FIRST = 30.0  # seconds after the first refusal; doubled on each further one
BACKOFF_MAX = 600.0


@dataclass(frozen=True)
class GatewayHealth:
    """What the console shows: ok, or the token endpoint's last error and when it is tried again."""

    ok: bool
    errcode: int | None = None  # None with ok=False: a network error, or Redis itself is unavailable
    errmsg: str = ""
    since: datetime | None = None  # naive UTC, first refusal of this run of refusals
    failures: int = 0
    retry_at: datetime | None = None  # naive UTC


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def gateway_health(store: redis.Redis) -> GatewayHealth:
    """The token endpoint's state as the last process that asked it saw it (for the console)."""
    try:
        raw = store.hgetall(KEY)
    except redis.RedisError:
        return GatewayHealth(ok=False, errmsg="Redis unavailable")
    if not raw:
        return GatewayHealth(ok=True)
    fields = {_text(k): _text(v) for k, v in raw.items()}
    code = fields.get("errcode") or ""
    return GatewayHealth(
        ok=False, errcode=int(code) if code else None, errmsg=fields.get("errmsg", ""),
        since=_utc(float(fields["since"])) if "since" in fields else None,
        failures=int(fields.get("failures", 0)),
        retry_at=_utc(float(fields["retry_at"])) if "retry_at" in fields else None,
    )


def record_failure(store: redis.Redis, errcode: int | None, errmsg: str, now: float | None = None) -> float:
    """Remember a refusal and return the epoch time before which nobody asks again."""
    now = time.time() if now is None else now
    failures = int(store.hincrby(KEY, "failures", 1))
    wait = min(BACKOFF_FIRST * float(2 ** (failures - 1)), BACKOFF_MAX)
    store.hsetnx(KEY, "since", now)
    store.hset(KEY, mapping={"errcode": "" if errcode is None else errcode, "errmsg": errmsg[:200],
                             "retry_at": now + wait})
    return now + wait


def record_success(store: redis.Redis) -> None:
    """A token was issued: the alarm ends."""
    store.delete(KEY)


def backing_off(store: redis.Redis, now: float | None = None) -> bool:
    """Whether the token endpoint refused recently enough that nobody should ask it yet."""
    retry_at = store.hget(KEY, "retry_at")
    return retry_at is not None and float(retry_at) > (time.time() if now is None else now)


def reset(store: redis.Redis) -> bool:
    """The operator fixed the cause (`flask outbox retry`): ask again at once (False: Redis is down)."""
    try:
        store.hdel(KEY, "retry_at")
    except redis.RedisError:
        return False
    return True
