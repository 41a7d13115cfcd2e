"""Shared steps for the intake tests: the demo street loaded, and looks at cases and the outbox."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.devtools.demo import DEMO_DIR
from bot.domain.directory import import_directory, import_residents, import_staff
from bot.storage.models import Case, CaseEvent, Outbox, Resident

BOUND = "demo-resident-1"  # 马连道南口三区 5号楼2单元1501 (managed, 茶马南街社区)
UNMANAGED = "demo-resident-4"  # 茶马南街1号院 2号楼 (失管)


@pytest.fixture
def street(app, db: Session) -> Session:  # type: ignore[no-untyped-def]
    """The demo street's directory, staff and residents, committed (demo-data itself: test_directory)."""
    import_directory(db, DEMO_DIR / "directory.csv")
    import_staff(db, DEMO_DIR / "staff.csv")
    import_residents(db, DEMO_DIR / "residents.csv", utcnow())
    db.commit()
    return db


def cases_of(db: Session, openid: str) -> list[Case]:
    """The resident's cases, oldest first (fresh from the database)."""
    db.expire_all()
    return list(db.scalars(select(Case).where(Case.openid == openid).order_by(Case.id)).all())


def events(db: Session, case: Case, kind: str | None = None) -> list[CaseEvent]:
    """The case's audit events (of one kind)."""
    db.expire_all()
    query = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    if kind:
        query = query.where(CaseEvent.kind == kind)
    return list(db.scalars(query).all())


def outbox(db: Session, purpose: str | None = None, openid: str | None = None) -> list[Outbox]:
    """Queued sends, oldest first."""
    db.expire_all()
    query = select(Outbox).order_by(Outbox.id)
    if purpose:
        query = query.where(Outbox.purpose == purpose)
    if openid:
        query = query.where(Outbox.openid == openid)
    return list(db.scalars(query).all())


def resident(db: Session, openid: str) -> Resident | None:
    """The resident row, fresh."""
    db.expire_all()
    return db.scalars(select(Resident).where(Resident.openid == openid)).one_or_none()


def age_cases(db: Session, openid: str, created_at: datetime) -> None:
    """Move the resident's cases back in time (for the 24-hour windows)."""
    for case in cases_of(db, openid):
        case.created_at = created_at
    db.commit()
