"""Leak (漏水/渗水): water coming through ceilings, walls and pipes into homes and buildings."""
from bot.constants import Priority
from handlers.intents.spec import IntentSpec

# Department and time limit: bot/domain/routing.yaml.
SPEC = IntentSpec(
    name="leak",
    priority=Priority.URGENT,
    safety="safety/leak",
)
