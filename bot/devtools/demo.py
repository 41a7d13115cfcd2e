"""Demo data for `make run` and `make test`: a street's directory, staff, residents, a console admin."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.domain.directory import import_directory, import_residents, import_staff
from bot.domain.users import ensure_demo_admin

DEMO_DIR = Path(__file__).with_name("demo_data")


def load_demo(session: Session, now: datetime, directory: Path = DEMO_DIR) -> dict[str, dict[str, int]]:
    """Import (or update in place) the demo CSVs; safe to run every time. The caller commits."""
    counts = {
        "directory": import_directory(session, directory / "directory.csv"),
        "staff": import_staff(session, directory / "staff.csv"),
        "residents": import_residents(session, directory / "residents.csv", now),
    }
    ensure_demo_admin(session, now)  # console login admin / mulin-demo
    return counts
