"""The app's services, typed and in one place: built once by create_app, reached with services(app)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from flask import Flask

if TYPE_CHECKING:  # types only: every layer may be handed the services, none imports the layers above it
    import redis
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from bot.messaging.gateway import Gateway
    from bot.messaging.inbound import Handler
    from bot.messaging.inbound_queue import QueueWriter
    from bot.web.load import LoadGauge
    from handlers.understanding.classifier import Classifier

KEY = "mulin"


@dataclass
class Services:
    """What the web app, the CLI and the scheduler work with."""

    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    gateway: Gateway
    classifier: Classifier
    handler: Handler  # the conversation's entry point for one inbound message
    prepare: Callable[[Session, list[str]], None]  # reads ahead for a batch of these residents' messages
    load: LoadGauge
    queue: QueueWriter  # the burst path's writer
    stop: threading.Event = field(default_factory=threading.Event)  # set to stop the scheduler
    # asked before each send: False once this scheduler has lost its lock (another one works now)
    holds_lock: Callable[[], bool] = field(default=lambda: True)


def services(app: Flask) -> Services:
    """The services of an app built by bot.create_app."""
    try:
        return cast(Services, app.extensions[KEY])
    except KeyError:
        raise RuntimeError("not an app built by bot.create_app()") from None
