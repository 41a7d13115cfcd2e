"""Clutter (楼道堆物): objects piled in stairwells, passages and fire lanes, bikes in hallways."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="clutter",
    department="community",
    priority="high",  # a blocked escape route is a fire risk
    time_limit=timedelta(days=7),
    safety="safety/clutter",
    questions=(
        "请问堆放物品的具体位置是哪里（楼号、单元、楼层或通道名称）？",
        "堆的是什么东西，有没有易燃物或电动车？",
    ),
)
