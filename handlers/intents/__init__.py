"""The intents Mulin knows from code, in routing order (the fallback last); keywords.yaml may add more."""
from __future__ import annotations

from handlers.intents import clutter, construction, emergency, facility, leak, other, pest, utility
from handlers.intents.spec import FALLBACK, IntentSpec, raise_priority

INTENTS: tuple[IntentSpec, ...] = (
    emergency.SPEC, leak.SPEC, pest.SPEC, clutter.SPEC, construction.SPEC, utility.SPEC, facility.SPEC,
    other.SPEC)
NAMES: tuple[str, ...] = tuple(spec.name for spec in INTENTS)
_BY_NAME = {spec.name: spec for spec in INTENTS}

__all__ = ["FALLBACK", "INTENTS", "NAMES", "IntentSpec", "get_spec", "raise_priority"]


def get_spec(name: str) -> IntentSpec:
    """The code's spec of an intent (KeyError if none); the effective one is `services(app).classifier.spec(name)`."""
    return _BY_NAME[name]
