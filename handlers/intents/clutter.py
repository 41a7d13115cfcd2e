"""Clutter (楼道堆物): objects piled in stairwells, passages and fire lanes, bikes in hallways."""
from bot.constants import Priority
from handlers.intents.spec import IntentSpec

# Department and time limit: bot/domain/routing.yaml.
SPEC = IntentSpec(
    name="clutter",
    priority=Priority.HIGH,  # a blocked escape route is a fire risk
    safety="safety/clutter",
)
