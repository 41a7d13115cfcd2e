"""The shape of a route's action, and its way of saying "not mine after all"."""
from __future__ import annotations

from collections.abc import Callable

from bot.messaging.inbound import Inbound
from handlers.conversation.context import Context

Action = Callable[[Context, Inbound], "str | None"]
CONTINUE = "\x00continue"  # an action's "not mine after all": the next route is tried
