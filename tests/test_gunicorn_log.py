"""gunicorn's own log lines never carry /wechat's signed query string."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from gunicorn.config import Config

from bot.web.gunicorn_conf import PathOnlyLogger

SIGNED = "/wechat?signature=5f1c0d&timestamp=1796170000&nonce=42&openid=o1"


@pytest.fixture
def logger(caplog: pytest.LogCaptureFixture) -> PathOnlyLogger:
    caplog.set_level(logging.DEBUG, logger="gunicorn.error")
    return PathOnlyLogger(Config())


def test_request_errors_are_logged_by_path_only(logger: PathOnlyLogger, caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("Error handling request %s %s", "POST", SIGNED)  # gunicorn's own wording
    logger.warning(f"Invalid request from ip=1.2.3.4: bad line POST {SIGNED} HTTP/1.1")
    assert "/wechat?…" in caplog.text and "signature" not in caplog.text and "5f1c0d" not in caplog.text


def test_access_log_fields_drop_the_query(logger: PathOnlyLogger) -> None:
    class Req:
        method, path, query, uri, version, headers = "POST", "/wechat", SIGNED.split("?")[1], SIGNED, (1, 1), []

    class Resp:
        status, response_length, sent, headers = "200 OK", 7, 7, []

    environ = {"REQUEST_METHOD": "POST", "RAW_URI": SIGNED, "PATH_INFO": "/wechat", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "1.2.3.4"}
    atoms = logger.atoms(Resp(), Req(), environ, timedelta(seconds=0.01))
    assert atoms["r"] == "POST /wechat?… HTTP/1.1" and atoms["q"] == "" and atoms["U"] == "/wechat"
