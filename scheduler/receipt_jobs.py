"""Delivery receipts that came before their send's msgid was committed: set on the send at the next pass
(bot.messaging.receipts.apply_early), so a fast WeChat never leaves a delivered notice "queued"."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask

from bot.messaging import receipts
from bot.services import services


def run(app: Flask, now: datetime) -> dict[str, Any]:
    """Apply the kept early receipts whose msgid is now stored; drop those a day old."""
    with services(app).sessions() as session:
        return receipts.apply_early(session, now)
