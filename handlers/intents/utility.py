"""Utility (水电气暖): water, power, gas or heating supply failures; a smell of gas is critical."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="utility",
    department="property",
    priority="urgent",
    time_limit=timedelta(hours=24),
    safety="safety/utility",
)
