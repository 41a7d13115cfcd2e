"""Other (其他诉求): everything no routed team owns; a person at the community office reads it."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="other",
    department="community",
    priority="normal",
    time_limit=timedelta(days=7),
    safety=None,
)
