"""Per-intent facts (department, priority, time limit, safety advice) and the ordered intent table."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

DEPARTMENTS = ("property", "grid", "enforcement", "health", "repair", "community")
PRIORITIES = ("normal", "high", "urgent", "critical")  # lowest first
FALLBACK = "other"

# A raised priority also shortens the time limit (gas smell, a burst pipe flooding a flat: 2 h).
PRIORITY_TIME_LIMITS = {"critical": timedelta(hours=2), "urgent": timedelta(hours=24)}


@dataclass(frozen=True)
class IntentSpec:
    """What Mulin does with one intent: who handles it, how fast, what to ask and advise."""

    name: str
    department: str
    priority: str = "normal"
    time_limit: timedelta = timedelta(days=7)
    safety: str | None = None  # template name under templates/text/, e.g. "safety/leak"
    questions: tuple[str, ...] = ()  # from keywords.yaml; else templates/text/questions/<name>.txt

    def __post_init__(self) -> None:
        if self.department not in DEPARTMENTS:
            raise ValueError(f"{self.name}: unknown department {self.department!r}")
        if self.priority not in PRIORITIES:
            raise ValueError(f"{self.name}: unknown priority {self.priority!r}")


def raise_priority(current: str, cue: str) -> str:
    """The higher of two priorities."""
    return max(current, cue, key=PRIORITIES.index)


def time_limit_for(spec: IntentSpec, priority: str) -> timedelta:
    """The spec's time limit, shortened when the priority was raised."""
    return min(spec.time_limit, PRIORITY_TIME_LIMITS.get(priority, spec.time_limit))


@lru_cache(maxsize=1)
def _table() -> tuple[IntentSpec, ...]:
    """The explicit routing order: the five routed intents, the fallback last."""
    from handlers.intents import clutter, construction, leak, other, pest, utility

    return (leak.SPEC, pest.SPEC, clutter.SPEC, construction.SPEC, utility.SPEC, other.SPEC)


def __getattr__(name: str) -> Any:
    # INTENTS is built on first use because each intent module imports IntentSpec from here.
    if name == "INTENTS":
        return _table()
    if name == "NAMES":
        return tuple(spec.name for spec in _table())
    raise AttributeError(name)


def get_spec(name: str) -> IntentSpec:
    """The spec of an intent: the app's effective one (with keywords.yaml overrides and intents that
    exist only in the YAML) inside an app context, else the module's; KeyError for an unknown name."""
    from flask import current_app, has_app_context

    if has_app_context() and "mulin" in current_app.extensions:
        return current_app.extensions["mulin"].classifier.spec(name)  # type: ignore[no-any-return]
    for spec in _table():
        if spec.name == name:
            return spec
    raise KeyError(name)
