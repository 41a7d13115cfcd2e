"""Pest (病媒消杀): cockroaches, rats, mosquitoes and other vermin; requests for disinfestation."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="pest",
    department="health",
    priority="normal",
    time_limit=timedelta(days=7),
    safety="safety/pest",
    questions=(
        "请问是哪种虫害或鼠害，出现在哪里（家中、楼道、地下室还是院内）？",
        "大概从什么时候开始的，数量多吗？",
    ),
)
