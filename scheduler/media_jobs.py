"""Keep residents' photos and voice messages: download each through media/get within WeChat's 3 days.

One media_files row per MediaId is the idempotency record, so running the job again (or after a crash)
never downloads a stored file twice; a failed download is retried with backoff (bot/messaging/media_store.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask

from bot.messaging import media_store
from bot.services import services


def run(app: Flask, now: datetime) -> dict[str, Any]:
    """Find new images and voice messages and download what is due into MEDIA_DIR."""
    svc = services(app)
    with svc.sessions() as session:
        return vars(media_store.keep(session, svc.gateway, media_store.media_dir(app.config), now))
