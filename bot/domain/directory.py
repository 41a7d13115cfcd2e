"""CSV imports of the street's directory, its staff and residents; re-importing updates in place.

A bad file raises ImportFileError naming the line, and the caller does not commit, so
nothing of it is stored.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.constants import STAFF_DEPARTMENTS
from bot.domain.compound_names import find_compound
from bot.errors import ImportFileError
from bot.storage import static_rows
from bot.storage.models import Base, Building, Community, Compound, Resident, Staff

Row = TypeVar("Row", bound=Base)

DIRECTORY_HEADER = ("community", "compound", "building", "property_manager")
STAFF_HEADER = ("name", "openid", "department", "community")
RESIDENT_HEADER = ("openid", "name", "phone", "compound", "building", "unit", "room")


def rows(source: Path | str, header: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a UTF-8 CSV file (path or text) that has the required columns."""
    text = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in header if name not in (reader.fieldnames or ())]
    if missing:
        raise ImportFileError("import_missing_columns", missing=",".join(missing), header=",".join(header))
    for row in reader:
        if None in row:
            raise ImportFileError("import_extra_values", line=reader.line_num)
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items()}


def building_name(raw: str) -> str:
    """'5号楼', '5楼', '5栋' or '5' -> '5'."""
    return re.sub(r"(号楼|号|楼|栋|幢)$", "", raw.strip())


def _one(session: Session, model: type[Row], **where: object) -> Row | None:
    return session.scalars(select(model).filter_by(**where)).one_or_none()


def _community(session: Session, name: str) -> Community:
    community = _one(session, Community, name=name)
    if community is None:
        community = Community(name=name)
        session.add(community)
        session.flush()
    return community


def _float(value: str, line: int, column: str) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        raise ImportFileError("import_not_number", line=line, column=column, value=value) from None


def import_directory(session: Session, source: Path | str) -> dict[str, int]:
    """Communities, compounds and buildings (optional columns: aliases, qr_scene, latitude, longitude)."""
    counts = {"buildings_created": 0, "buildings_updated": 0}
    for line, row in rows(source, DIRECTORY_HEADER):
        for column in ("community", "compound", "building"):
            if not row[column]:
                raise ImportFileError("import_empty", line=line, column=column)
        community = _community(session, row["community"])
        compound = _one(session, Compound, name=row["compound"])
        if compound is None:
            compound = Compound(name=row["compound"], community_id=community.id)
            session.add(compound)
        compound.community_id = community.id
        for column in ("aliases", "qr_scene"):
            if row.get(column):
                setattr(compound, column, row[column])
        for column in ("latitude", "longitude"):
            if row.get(column):
                setattr(compound, column, _float(row[column], line, column))
        session.flush()
        name = building_name(row["building"])
        building = _one(session, Building, compound_id=compound.id, name=name)
        counts["buildings_updated" if building else "buildings_created"] += 1
        if building is None:
            building = Building(compound_id=compound.id, name=name)
            session.add(building)
        building.property_manager = row["property_manager"] or None
        session.flush()
    static_rows.changed(session)  # every process reads compounds and buildings afresh
    return counts


def import_staff(session: Session, source: Path | str) -> dict[str, int]:
    """Staff per department and community (empty community = the whole street)."""
    counts = {"created": 0, "updated": 0}
    for line, row in rows(source, STAFF_HEADER):
        if not row["openid"] or not row["name"]:
            raise ImportFileError("import_name_openid", line=line)
        if row["department"] not in STAFF_DEPARTMENTS:
            raise ImportFileError("import_department", line=line, department=row["department"],
                                  departments=", ".join(STAFF_DEPARTMENTS))
        community = _one(session, Community, name=row["community"]) if row["community"] else None
        if row["community"] and community is None:
            raise ImportFileError("import_community", line=line, community=row["community"])
        cid = community.id if community else None
        member = _one(session, Staff, openid=row["openid"], department=row["department"], community_id=cid)
        counts["updated" if member else "created"] += 1
        if member is None:
            member = Staff(openid=row["openid"], department=row["department"], community_id=cid)
            session.add(member)
        member.name = row["name"]
        session.flush()
    return counts


def import_residents(session: Session, source: Path | str, now: datetime) -> dict[str, int]:
    """Residents bound to compound, building, unit and room (name and phone optional)."""
    counts = {"created": 0, "updated": 0}
    for line, row in rows(source, RESIDENT_HEADER):
        if not row["openid"]:
            raise ImportFileError("import_openid", line=line)
        compound = find_compound(session, row["compound"])
        if compound is None:
            raise ImportFileError("import_compound", line=line, compound=row["compound"])
        building = _one(session, Building, compound_id=compound.id, name=building_name(row["building"]))
        if building is None:
            raise ImportFileError("import_building", line=line, compound=compound.name, building=row["building"])
        resident = _one(session, Resident, openid=row["openid"])
        counts["updated" if resident else "created"] += 1
        if resident is None:
            resident = Resident(openid=row["openid"], created_at=now, subscribed=True)
            session.add(resident)
        resident.name, resident.phone = row["name"] or None, row["phone"] or None
        resident.compound_id, resident.building_id = compound.id, building.id
        resident.unit, resident.room = row["unit"] or None, row["room"] or None
        session.flush()
    return counts
