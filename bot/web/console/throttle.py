"""Failed console logins counted in Redis per username and client address, so guessing from one place
locks only that place out: a user who logs in from elsewhere is not locked by someone else's guesses."""
from __future__ import annotations

from datetime import timedelta

import redis

PER_ADDRESS_AND_USER = 5  # failures of one username from one address before that pair is locked
PER_ADDRESS = 30  # failures from one address over any usernames (guessing many names) before it is locked
WINDOW = timedelta(minutes=15)  # counts expire this long after the latest failure, not when the lock starts
PREFIX = "mulin:login-failures"


def _user_key(username: str) -> str:
    return f"{PREFIX}:user:{username}"  # a hash: client address -> failures


def _address_key(address: str) -> str:
    return f"{PREFIX}:address:{address}"


def locked(store: redis.Redis, address: str, username: str) -> bool:
    """Whether logins for this username from this address are refused for now."""
    pair, anyone = store.hget(_user_key(username), address), store.get(_address_key(address))
    return int(pair or 0) >= PER_ADDRESS_AND_USER or int(anyone or 0) >= PER_ADDRESS


def failed(store: redis.Redis, address: str, username: str) -> bool:
    """Count a failure (each one, locked or not, renews the window); whether the pair is now locked."""
    seconds = int(WINDOW.total_seconds())
    with store.pipeline() as pipe:  # one round trip, one transaction
        pipe.hincrby(_user_key(username), address, 1)
        pipe.expire(_user_key(username), seconds)
        pipe.incr(_address_key(address))
        pipe.expire(_address_key(address), seconds)
        pair, _, anyone, _ = pipe.execute()
    return int(pair) >= PER_ADDRESS_AND_USER or int(anyone) >= PER_ADDRESS


def succeeded(store: redis.Redis, address: str, username: str) -> None:
    """A right password from this address: its count for this username starts again."""
    store.hdel(_user_key(username), address)


def locked_anywhere(store: redis.Redis, username: str) -> bool:
    """Whether some address is locked out of this username (shown to admins)."""
    return any(int(n) >= PER_ADDRESS_AND_USER for n in store.hvals(_user_key(username)))


def unlock(store: redis.Redis, username: str) -> None:
    """An admin lifts every lock on this username before it runs out."""
    store.delete(_user_key(username))
