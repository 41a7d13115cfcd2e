"""Utility (水电气暖): water, power, gas or heating supply failures; a smell of gas is critical."""
from bot.constants import Priority
from handlers.intents.spec import IntentSpec

# Department and time limit: bot/domain/routing.yaml.
SPEC = IntentSpec(
    name="utility",
    priority=Priority.URGENT,
    safety="safety/utility",
)
