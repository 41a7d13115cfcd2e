"""Schema changes are Alembic migrations: the migrated schema must match the models exactly."""
from __future__ import annotations

from pathlib import Path

from alembic import command

from bot.storage.migrate import alembic_config


def test_models_and_migrations_agree(migrated_db: Path) -> None:
    command.check(alembic_config(f"sqlite:///{migrated_db}"))  # raises if a migration is missing


def test_upgrade_keeps_existing_data(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    from bot.storage.migrate import upgrade
    url = f"sqlite:///{tmp_path}/keep.db"
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("insert into communities (name) values ('茶马南街社区')"))
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(text("select name from communities")).scalar_one() == "茶马南街社区"
