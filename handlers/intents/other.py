"""Other (其他诉求): everything no routed team owns; a person at the community office reads it."""
from bot.constants import Priority
from handlers.intents.spec import IntentSpec

# Department and time limit: bot/domain/routing.yaml.
SPEC = IntentSpec(
    name="other",
    priority=Priority.NORMAL,
    safety=None,
)
