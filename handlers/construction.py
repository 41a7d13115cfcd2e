"""Construction (私搭乱建): illegal structures, enclosed public space, removed load-bearing walls."""
from datetime import timedelta

from handlers.intents import IntentSpec

SPEC = IntentSpec(
    name="construction",
    department="enforcement",
    priority="normal",
    time_limit=timedelta(days=7),
    safety="safety/construction",
    questions=(
        "请问违建的具体位置是哪里（楼号、楼顶、院内还是公共绿地）？",
        "是正在施工还是已经建好了？方便的话请发一张照片。",
    ),
)
