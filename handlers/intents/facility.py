"""Facility (公共设施): a building's shared fittings broken — the stairwell light, the unit door and its lock,
the door intercom, a handrail. The property company repairs them (失管小区: the emergency repair team); a lift is
not one of them (a trapped person is an emergency, a lift's upkeep and fees are 其他诉求 for the community)."""
from bot.constants import Priority
from handlers.intents.spec import IntentSpec

# Department and time limit: bot/domain/routing.yaml.
SPEC = IntentSpec(
    name="facility",
    priority=Priority.NORMAL,
    safety="safety/facility",
)
