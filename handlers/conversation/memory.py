"""Loading and saving a resident's dialogue state: the store (Redis, 30 minutes), and the database for
a report that waits for an address. The store is written only once the message's transaction commits."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

from bot.storage.db import on_commit
from handlers.conversation import pending
from handlers.conversation.context import Context
from handlers.conversation.states import DialogueState, State

log = logging.getLogger(__name__)
TTL_SECONDS = 30 * 60
TTL = timedelta(seconds=TTL_SECONDS)


def load(ctx: Context, openid: str) -> State:
    """The resident's current state: idle when none or expired; a waiting report when the store lost it."""
    value = ctx.dialogues.get(openid)
    if value is None:
        kept = pending.waiting(ctx.session, openid, ctx.now, TTL)
        return State(DialogueState.AWAIT_ADDRESS, kept) if kept else State()
    try:
        name = DialogueState(value.get("name", DialogueState.IDLE))
    except ValueError:
        log.warning("dialogue: unknown state %r, starting over", value.get("name"))
        return State()
    return State(name, value.get("data", {}))


def save(ctx: Context, openid: str, state: State) -> None:
    """Store the state for 30 minutes once the message's transaction commits (idle: removed)."""
    pending.keep(ctx.session, openid, state.data, ctx.now)
    store = ctx.dialogues
    if state.name == DialogueState.IDLE and not state.data:
        on_commit(ctx.session, lambda: store.delete(openid))
        return
    value = json.loads(json.dumps({"name": str(state.name), "data": state.data}))  # as it is now
    on_commit(ctx.session, lambda: store.set(openid, value, TTL_SECONDS))
