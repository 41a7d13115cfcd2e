"""Clutter (楼道堆物): objects piled in stairwells, passages and fire lanes, bikes in hallways."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="clutter",
    department="community",
    priority="high",  # a blocked escape route is a fire risk
    time_limit=timedelta(days=7),
    safety="safety/clutter",
)
