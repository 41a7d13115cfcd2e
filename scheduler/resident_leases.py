"""Which answering process may answer a resident's queued messages right now (a lease in Redis, one per resident).

Several processes answer the queue at once (the scheduler and `python -m scheduler --answer-only` workers). The
database claims each message once; this lease makes one resident's messages go through one process at a time,
so a later message is never answered before the earlier one's dialogue step has reached Redis (that step is
written just after the database commit, bot.storage.db.on_commit). A lease is taken for a pass of the job and
given back at its end; if its process dies it expires on its own. Without Redis there are no leases, and none
are needed: no dialogue step can be written either, so the handlers keep the messages for later (inbound.Busy).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterable

import redis

PREFIX = "mulin:answering:"
TTL_MS = 10_000  # well past a pass (replay_jobs.BUDGET); a dead process's residents wait at most this long

_RELEASE = """
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then redis.call('del', key) end
end
return 0
"""


class ResidentLeases:
    """The leases one pass of the job holds: take() more as it goes, release() them all at the end."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._token = f"{os.getpid()}:{uuid.uuid4().hex}"
        self.held: set[str] = set()
        self.real = True  # False once Redis failed: then nobody is kept away by them

    def take(self, openids: Iterable[str]) -> set[str]:
        """Lease the residents not yet held (one round trip); the ones this pass now holds."""
        wanted = sorted(set(openids) - self.held)
        if not wanted:
            return self.held
        pipe = self._client.pipeline(transaction=False)
        for openid in wanted:
            pipe.set(PREFIX + openid, self._token, nx=True, px=TTL_MS)
        try:
            got = pipe.execute()
        except redis.RedisError:  # see above: answering goes on as without leases
            got, self.real = [True] * len(wanted), False
        self.held.update(openid for openid, ok in zip(wanted, got, strict=True) if ok)
        return self.held

    def release(self) -> None:
        """Give back every lease this pass still holds (only its own: one that expired and was retaken stays)."""
        keys, self.held = [PREFIX + openid for openid in self.held], set()
        if keys:
            try:
                self._client.eval(_RELEASE, len(keys), *keys, self._token)
            except redis.RedisError:  # they expire on their own
                pass
