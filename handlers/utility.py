"""Utility (水电气暖): water, power, gas or heating supply failures; a smell of gas is critical."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="utility",
    department="property",
    priority="urgent",
    time_limit=timedelta(hours=24),
    safety="safety/utility",
    questions=(
        "请问是停水、停电、停气还是暖气不热？影响的是您一户还是整栋楼？",
        "从什么时候开始的？",
    ),
)
