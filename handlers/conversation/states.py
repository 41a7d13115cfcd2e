"""The dialogue's state names, where a resident's conversation stands, and what a step answers."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DialogueState(StrEnum):
    """Where a resident's conversation stands (stored by value, so the names stay as they were)."""

    IDLE = "idle"
    AWAIT_ADDRESS = "await_address"
    CONFIRM_ADDRESS = "confirm_address"
    DETAILS = "details"
    HANDOFF = "handoff"
    MULINFANG_ADDRESS = "mulinfang_address"  # the address for a 睦邻坊 application (mulinfang_chat.py)


ASKING_ADDRESS = frozenset({DialogueState.AWAIT_ADDRESS, DialogueState.CONFIRM_ADDRESS})


@dataclass
class State:
    """A resident's current state, with what the conversation has gathered so far."""

    name: DialogueState = DialogueState.IDLE
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """A step's answer: the reply and the state to go to."""

    reply: str | None
    state: DialogueState = DialogueState.IDLE
    data: dict[str, Any] = field(default_factory=dict)
