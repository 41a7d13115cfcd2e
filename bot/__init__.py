"""Mulin (睦邻): the street office's WeChat Official Account bot."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from bot.config import ConfigError, load_config


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app: settings, database, Redis, WeChat gateway, classifier, routes, CLI.

    A setting or a staff-edited file that cannot work (routing.yaml, the WeChat templates) stops start-up
    with one clear line.
    """
    from bot.errors import RoutingError
    from handlers.understanding.replies import RepliesError

    try:
        return _build(config)
    except (ConfigError, RoutingError, RepliesError) as exc:
        raise SystemExit(f"Mulin: {exc}") from None


def _build(config: Mapping[str, Any] | None) -> Flask:
    from bot import cli
    from bot.domain import mulinfang_alerts, routing
    from bot.messaging import gateway
    from bot.messaging.inbound_queue import QueueWriter
    from bot.services import KEY, Services
    from bot.storage import db, redis_store
    from bot.web import console, load, request_session, sheets, webhook
    from bot.web.console import canned_replies
    from handlers.conversation import dispatch, faq
    from handlers.understanding import classifier

    settings = load_config(config)
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(settings)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("jieba", "apscheduler"):  # their per-run lines repeat ours
        logging.getLogger(chatty).setLevel(logging.WARNING)
    engine, sessions = db.connect(app.config["DATABASE_URL"])
    store = redis_store.connect(app.config.get("REDIS_URL", ""))
    reader = classifier.load_classifier(app.config.get("KEYWORDS_PATH"))
    conversation = dispatch.Conversation(reader, redis_store.RedisDialogueStore(store), faq.load_faq(),
                                         app.config["STREET_NAME"], app.config["STREET_CONTACT"])
    routing.check_intents(routing.load_rules(), reader.intents)
    mulinfang_alerts.load_settings()  # checks bot/domain/mulinfang.yaml
    _check_quiet_hours(app.config["QUIET_HOURS"])
    canned_replies.load(app.config.get("CANNED_REPLIES_PATH"))  # checks templates/console/canned_replies.yaml
    wechat = gateway.make_gateway(app.config, store)  # checks templates/wechat/templates.yaml
    app.extensions[KEY] = Services(
        engine=engine, sessions=sessions, redis=store, gateway=wechat,
        classifier=reader, handler=conversation, prepare=conversation.prepare,
        load=load.LoadGauge(float(app.config["INLINE_BUSY_LIMIT"])), queue=QueueWriter(engine),
    )
    request_session.init_app(app)
    load.init_app(app)
    webhook.init_app(app)
    console.init_app(app)
    sheets.init_app(app)  # the door-sheet links in 睦邻坊's cleanup notices
    cli.init_app(app)
    return app


def _check_quiet_hours(text: str) -> None:
    """QUIET_HOURS must read as "HH:MM-HH:MM" (or be empty)."""
    from bot.domain.quiet_hours import QuietHours

    try:
        QuietHours.parse(text)
    except ValueError:
        raise ConfigError(f"QUIET_HOURS={text!r} is not a time range like 21:00-08:00 (empty: no quiet hours).")\
            from None
