"""Leak (漏水/渗水): water coming through ceilings, walls and pipes into homes and buildings."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="leak",
    department="property",
    priority="urgent",
    time_limit=timedelta(hours=24),
    safety="safety/leak",
)
