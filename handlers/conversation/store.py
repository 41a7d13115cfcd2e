"""Where dialogue state is kept: a small interface, so Redis (bot.storage.redis_store) could be replaced."""
from __future__ import annotations

from typing import Any, Protocol


class DialogueStore(Protocol):
    """Dialogue state by openid: a JSON-able dict that expires on its own."""

    def get(self, openid: str) -> dict[str, Any] | None:
        """The stored value, or None when there is none (or it expired)."""

    def set(self, openid: str, value: dict[str, Any], ttl_seconds: int) -> None:
        """Store the value for ttl_seconds."""

    def delete(self, openid: str) -> None:
        """Forget the value."""

    def get_many(self, openids: list[str]) -> dict[str, dict[str, Any] | None]:
        """The stored values of several residents at once (None where there is none)."""

    def write(self, values: dict[str, dict[str, Any] | None], ttl_seconds: int) -> None:
        """Store each value for ttl_seconds and forget those that are None, at once."""
