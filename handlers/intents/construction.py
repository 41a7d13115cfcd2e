"""Construction (私搭乱建): illegal structures, enclosed public space, removed load-bearing walls."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="construction",
    department="enforcement",
    priority="normal",
    time_limit=timedelta(days=7),
    safety="safety/construction",
)
