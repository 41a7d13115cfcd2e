"""What Mulin does with one intent besides routing it: its priority, what to ask, what safety advice to give."""
from __future__ import annotations

from dataclasses import dataclass

from bot.constants import PRIORITIES, Priority

FALLBACK = "other"  # the intent no routed team owns: a person at the community office reads it


@dataclass(frozen=True)
class IntentSpec:
    """An intent's priority, questions and safety advice; department and time limit are routing's (routing.yaml)."""

    name: str
    priority: Priority = Priority.NORMAL
    safety: str | None = None  # template name under templates/text/, e.g. "safety/leak"
    questions: tuple[str, ...] = ()  # from keywords.yaml; else templates/text/questions/<name>.txt

    def __post_init__(self) -> None:
        if self.priority not in PRIORITIES:
            raise ValueError(f"{self.name}: unknown priority {self.priority!r}")


def raise_priority(current: str, cue: str) -> Priority:
    """The higher of two priorities."""
    return max(Priority(current), Priority(cue), key=PRIORITIES.index)
