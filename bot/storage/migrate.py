"""Schema migrations with Alembic, driven from Python so `flask --app bot init-db` needs no alembic.ini."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from bot.config import ROOT

MIGRATIONS = ROOT / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and this database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str) -> None:
    """Create or upgrade the schema to the newest revision (idempotent)."""
    command.upgrade(alembic_config(database_url), "head")


def revision(database_url: str, message: str) -> None:
    """Autogenerate a new revision from the models (developers: review it before committing)."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        upgrade(url)
        revision(url, sys.argv[1] if len(sys.argv) > 1 else "schema change")
