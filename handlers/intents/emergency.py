"""Emergency (紧急求助): fire or smoke, someone trapped in a lift, a smoking meter box or sparks, a missing or
broken manhole cover, a person fallen or ill.

Every word of it in keywords.yaml is an escalation to critical (特急) that picks its own safety advice
(safety/fire, lift, electric, manhole, medical); the reply starts with what to do now and the hotline, and routing.yaml
sends the case to the community's duty staff with a 2-hour limit. A later message on the case ("我出来了，
现在怎么办") gets the advice's next step (handlers/conversation/advice.py).
"""
from bot.constants import Priority
from handlers.intents.spec import IntentSpec

# Department and time limit: bot/domain/routing.yaml.
SPEC = IntentSpec(
    name="emergency",
    priority=Priority.URGENT,  # each keyword raises it to critical, with its advice
    safety=None,
)
