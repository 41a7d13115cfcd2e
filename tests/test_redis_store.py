"""Without REDIS_URL, a command run beside `make run` shares its embedded Redis instead of starting (and later
stopping) its own on the same file."""
from __future__ import annotations

from pathlib import Path

import pytest
import redis

from bot.storage import redis_store


def test_connect_uses_the_running_embedded_server(redis_url: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "redis.url"
    shared.write_text(redis_url)
    monkeypatch.setattr(redis_store, "SHARED_URL", shared)
    client = redis_store.connect("")
    client.set("mulin:test:shared", "1")
    assert redis.Redis.from_url(redis_url).get("mulin:test:shared") == b"1"
    assert not hasattr(client, "socket_file")  # a plain client: it owns no server to shut down


def test_a_stale_shared_url_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "redis.url"
    shared.write_text(f"unix://{tmp_path}/gone.sock")
    monkeypatch.setattr(redis_store, "SHARED_URL", shared)
    assert redis_store._running_embedded() is None


def test_dialogue_store_keeps_state_per_resident_for_its_ttl(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store = redis_store.RedisDialogueStore(client)
    store.set("o-store", {"name": "await_address", "data": {"pending": {"text": "楼上漏水"}}}, 60)
    assert store.get("o-store") == {"name": "await_address", "data": {"pending": {"text": "楼上漏水"}}}
    assert 0 < client.ttl("mulin:dialogue:o-store") <= 60 and store.get("o-other") is None
    store.delete("o-store")
    assert store.get("o-store") is None
    with pytest.raises(ValueError):
        store.get("")  # a dialogue always belongs to one resident


def test_dialogue_store_reads_and_writes_several_residents_at_once(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store = redis_store.RedisDialogueStore(client)
    store.set("o-many-1", {"name": "details"}, 60)
    store.set("o-many-2", {"name": "await_address"}, 60)
    assert store.get_many(["o-many-1", "o-many-2", "o-many-3"]) == {
        "o-many-1": {"name": "details"}, "o-many-2": {"name": "await_address"}, "o-many-3": None}
    store.write({"o-many-1": None, "o-many-2": {"name": "handoff"}, "o-many-3": {"name": "details"}}, 60)
    assert store.get_many(["o-many-1", "o-many-2", "o-many-3"]) == {
        "o-many-1": None, "o-many-2": {"name": "handoff"}, "o-many-3": {"name": "details"}}
    assert 0 < client.ttl("mulin:dialogue:o-many-3") <= 60 and store.get_many([]) == {}
