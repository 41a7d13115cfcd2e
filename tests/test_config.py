"""Start-up settings: production refuses missing secrets; demo generates them; secrets never print."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services import services

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("missing", ["WECHAT_TOKEN", "SECRET_KEY", "WECHAT_APPID", "WECHAT_SECRET"])
def test_production_refuses_to_start_without_a_secret(missing: str) -> None:
    full = {"MULIN_ENV": "production", "WECHAT_TOKEN": "t", "SECRET_KEY": "s", "WECHAT_APPID": "wx1",
            "WECHAT_SECRET": "x", "DATABASE_URL": "sqlite://"}
    full[missing] = ""
    with pytest.raises(ConfigError, match=missing):
        load_config(full)


def test_production_start_up_fails_with_a_clear_message(tmp_path: Path) -> None:
    env = {"MULIN_ENV": "production", "PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", "bot", "init-db"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "missing WECHAT_TOKEN" in proc.stderr and "Traceback" not in proc.stderr


def test_demo_mode_generates_local_values() -> None:
    config = load_config({"MULIN_ENV": "demo", "WECHAT_TOKEN": "", "SECRET_KEY": "", "WECHAT_AES_KEY": ""})
    assert len(config["WECHAT_TOKEN"]) >= 16 and len(config["WECHAT_AES_KEY"]) == 43
    assert config["WECHAT_AES_KEY"].isalnum()


def test_init_db_is_idempotent_and_creates_the_schema(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, inspect
    from bot import create_app
    url = f"sqlite:///{tmp_path}/fresh.db"
    app = create_app({**settings, "DATABASE_URL": url})
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"inbound_messages", "cases", "outbox", "notices", "residents", "alembic_version"} <= tables


def test_paces_and_the_burst_limit_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MULIN_ENV", "demo")
    monkeypatch.setenv("SEND_RATE_PER_SECOND", "5")
    monkeypatch.setenv("REPLY_RATE_PER_SECOND", "250")
    monkeypatch.setenv("INLINE_BUSY_LIMIT", "0.4")
    config = load_config()
    assert (config["SEND_RATE_PER_SECOND"], config["REPLY_RATE_PER_SECOND"], config["INLINE_BUSY_LIMIT"]) == (5.0, 250.0, 0.4)
    monkeypatch.delenv("REPLY_RATE_PER_SECOND")
    assert load_config()["REPLY_RATE_PER_SECOND"] == 100.0  # answers after a burst: not at the notice pace


def test_every_setting_comes_from_the_environment_cast_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.config import load_config

    monkeypatch.setenv("NOTICE_OFFSETS_MINUTES", "2880,60")
    monkeypatch.setenv("OUTBOX_BATCH", "50")
    monkeypatch.setenv("OVERDUE_WARN_FRACTION", "0.5")
    monkeypatch.setenv("TEMPLATE_IDS", "notice=tpl-1, staff = tpl-2")
    config = load_config({"WECHAT_TOKEN": "t", "SECRET_KEY": "s", "WECHAT_AES_KEY": "k" * 43,
                          "DATABASE_URL": "sqlite://"})  # nothing generated into instance/
    assert config["NOTICE_OFFSETS_MINUTES"] == [2880, 60] and config["OUTBOX_BATCH"] == 50
    assert config["OVERDUE_WARN_FRACTION"] == 0.5 and config["TEMPLATE_IDS"] == {"notice": "tpl-1", "staff": "tpl-2"}


def test_a_setting_that_is_not_a_number_stops_start_up(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.config import ConfigError, load_config

    monkeypatch.setenv("FOLLOWUP_AFTER_HOURS", "tomorrow")
    with pytest.raises(ConfigError, match="FOLLOWUP_AFTER_HOURS"):
        load_config({"WECHAT_TOKEN": "t", "SECRET_KEY": "s", "WECHAT_AES_KEY": "k" * 43, "DATABASE_URL": "sqlite://"})


def test_notice_offsets_setting_reaches_a_notice_made_with_the_cli(settings, runner, db) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    from bot.storage.models import Community, Notice

    app = create_app({**settings, "NOTICE_OFFSETS_MINUTES": [2880]})
    with app.app_context():
        session = services(app).sessions()
        session.add(Community(name="东社区"))
        session.commit()
        result = app.test_cli_runner().invoke(args=["notice", "create", "--community", "东社区", "--at",
                                                    "2099-01-01 09:00", "--text", "请清理楼道杂物"])
        assert result.exit_code == 0, result.output
        assert session.scalars(select(Notice)).one().offsets == [2880]
        session.close()
    services(app).engine.dispose()
