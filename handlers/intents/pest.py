"""Pest (病媒消杀): cockroaches, rats, mosquitoes and other vermin; requests for disinfestation."""
from bot.constants import Priority
from handlers.intents.spec import IntentSpec

# Department and time limit: bot/domain/routing.yaml.
SPEC = IntentSpec(
    name="pest",
    priority=Priority.NORMAL,
    safety="safety/pest",
)
