"""Dialogue as data: named states, each step returns the next state (see memory for where state lives).

A case is created in the database as soon as Mulin has what it needs, so an expired
dialogue never loses one; only the open question is forgotten. A report waiting for an
address is kept in the database too (pending), so losing Redis loses no report.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.messaging.inbound import Inbound
from handlers.conversation import address_steps, after_report, intake, memory, mulinfang_chat
from handlers.conversation.context import Context
from handlers.conversation.states import DialogueState, State, Step

StepFn = Callable[[Context, Inbound, dict[str, Any]], Step]

STATES: dict[DialogueState, StepFn] = {
    DialogueState.IDLE: intake.report,
    DialogueState.AWAIT_ADDRESS: address_steps.await_address,
    DialogueState.CONFIRM_ADDRESS: address_steps.confirm_address,
    DialogueState.DETAILS: after_report.detail,
    DialogueState.HANDOFF: after_report.to_person,
    DialogueState.MULINFANG_ADDRESS: mulinfang_chat.await_address,
}


def step(ctx: Context, msg: Inbound) -> str | None:
    """Run the step of the resident's current state and remember the next state."""
    current = memory.load(ctx, msg.openid)
    result = STATES[current.name](ctx, msg, current.data)
    memory.save(ctx, msg.openid, State(result.state, result.data))
    return result.reply
