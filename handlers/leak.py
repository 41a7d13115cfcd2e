"""Leak (漏水/渗水): water coming through ceilings, walls and pipes into homes and buildings."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="leak",
    department="property",
    priority="urgent",
    time_limit=timedelta(hours=24),
    safety="safety/leak",
    questions=(
        "请问漏水的具体位置是哪里（楼号、单元、门牌，屋顶、墙面还是管道）？",
        "水是从哪里来的，楼上、外墙还是自家管道？现在还在漏吗？",
    ),
)
