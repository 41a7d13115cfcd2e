"""Construction (私搭乱建): illegal structures, enclosed public space, removed load-bearing walls."""
from bot.constants import Priority
from handlers.intents.spec import IntentSpec

# Department and time limit: bot/domain/routing.yaml.
SPEC = IntentSpec(
    name="construction",
    priority=Priority.NORMAL,
    safety="safety/construction",
)
