"""Loading and saving a resident's dialogue state: the store (Redis, 30 minutes), and the database for
a report that waits for an address. The store is written only once the message's transaction commits."""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.storage.db import for_transaction, on_commit
from handlers.conversation import pending
from handlers.conversation.context import Context
from handlers.conversation.states import DialogueState, State
from handlers.conversation.store import DialogueStore

log = logging.getLogger(__name__)
TTL_SECONDS = 30 * 60
TTL = timedelta(seconds=TTL_SECONDS)


_WRITTEN, _READ = "dialogues.written", "dialogues.read"  # this transaction's states, before and after the commit


def prefetch(session: Session, store: DialogueStore, openids: list[str]) -> None:
    """Read ahead the states of the residents whose messages a batch answers in one transaction (one round trip)."""
    for_transaction(session, _READ).update(store.get_many(openids))


def _stored(ctx: Context, openid: str) -> dict[str, Any] | None:
    """The state as this transaction left it (an earlier message of the batch), read ahead, or in the store."""
    written, read = for_transaction(ctx.session, _WRITTEN), for_transaction(ctx.session, _READ)
    value: dict[str, Any] | None = (written[openid] if openid in written else read[openid] if openid in read
                                    else ctx.dialogues.get(openid))
    return value


def load(ctx: Context, openid: str) -> State:
    """The resident's current state: idle when none or expired; a waiting report when the store lost it."""
    value = _stored(ctx, openid)
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
    """Store the state for 30 minutes once the message's transaction commits (idle: removed); the states of a
    transaction's messages are written together, the last of each resident's."""
    pending.keep(ctx.session, openid, state.data, ctx.now)
    written = for_transaction(ctx.session, _WRITTEN)
    if not written:
        store = ctx.dialogues
        on_commit(ctx.session, lambda: store.write(written, TTL_SECONDS))
    idle = state.name == DialogueState.IDLE and not state.data
    written[openid] = None if idle else json.loads(json.dumps({"name": str(state.name), "data": state.data}))
