"""Mulin (睦邻): the street office's WeChat Official Account bot."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask

from bot.config import ConfigError, load_config


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app: settings, database, Redis, WeChat gateway, classifier, routes, CLI."""
    from bot import cli
    from bot.web import console, load, webhook
    from bot.storage import db, redis_store
    from bot.messaging import gateway
    from handlers.understanding import classifier
    from handlers.conversation import dispatch

    try:
        settings = load_config(config)
    except ConfigError as exc:
        raise SystemExit(f"Mulin: {exc}") from None
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(settings)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("jieba", "apscheduler"):  # their per-run lines repeat ours
        logging.getLogger(chatty).setLevel(logging.WARNING)
    db.init_app(app)
    redis_store.init_app(app)
    gateway.init_app(app)
    classifier.init_app(app)
    app.extensions["mulin.handler"] = dispatch.handle
    load.init_app(app)
    webhook.init_app(app)
    console.init_app(app)
    cli.init_app(app)
    return app
