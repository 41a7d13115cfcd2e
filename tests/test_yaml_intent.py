"""An intent defined only in keywords.yaml: classified, routed by routing.yaml, offered by the console's filter."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from bot import create_app
from bot.clock import utcnow
from bot.devtools.demo import load_demo
from bot.services import services
from bot.storage.models import Case
from handlers.understanding.lexicon import DEFAULT_PATH
from tests.conftest import AES_KEY, APPID, TOKEN
from tests.helpers_console import Console
from tests.helpers_intake import BOUND
from tests.wechat import WeChat


@pytest.fixture
def noise_app(settings: dict[str, object], tmp_path: Path) -> Iterator[Flask]:
    """The app with keywords.yaml plus an intent `noise` that no module defines, and the demo street."""
    table = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    table["intents"]["noise"] = {"spec": {"priority": "high"}, "terms": [{"广场舞": 4}, {"噪音扰民": 4}]}
    path = tmp_path / "keywords.yaml"
    path.write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")
    app = create_app({**settings, "KEYWORDS_PATH": str(path)})
    with app.app_context(), services(app).sessions() as session:
        load_demo(session, utcnow())
        session.commit()
    yield app
    services(app).engine.dispose()


def test_the_console_filter_offers_the_yaml_only_intent(noise_app: Flask) -> None:
    client = noise_app.test_client()
    wechat = WeChat(client, TOKEN, APPID, AES_KEY)
    assert wechat.send_text("楼下广场舞每天放到半夜，噪音扰民", openid=BOUND).status == 200
    with services(noise_app).sessions() as session:
        case = session.scalars(select(Case).where(Case.openid == BOUND)).one()
        assert (case.intent, case.priority, case.department) == ("noise", "high", "community")
    console = Console(client)
    assert console.login().status_code == 302
    html = console.page("/console/cases")
    assert '<option value="noise"' in html and '<option value="leak"' in html
    assert case.number in console.page("/console/cases?intent=noise")
    assert case.number not in console.page("/console/cases?intent=leak")


def test_explain_routes_the_yaml_only_intent_like_its_cases(noise_app: Flask) -> None:
    result = noise_app.test_cli_runner().invoke(args=["classify", "--explain"], input="广场舞太吵了\n")
    row = json.loads(result.stdout)
    assert (row["intent"], row["priority"], row["department"], row["time_limit_hours"]) == \
        ("noise", "high", "community", 168.0)
