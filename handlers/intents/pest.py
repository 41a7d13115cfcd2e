"""Pest (病媒消杀): cockroaches, rats, mosquitoes and other vermin; requests for disinfestation."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="pest",
    department="health",
    priority="normal",
    time_limit=timedelta(days=7),
    safety="safety/pest",
)
