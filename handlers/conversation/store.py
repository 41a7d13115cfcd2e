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
