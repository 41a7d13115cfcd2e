"""CSV imports of the directory, staff and residents, and the demo data command."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import utcnow
from bot.domain.directory import import_directory, import_residents, import_staff
from bot.errors import ImportFileError
from bot.storage.models import Building, Community, Compound, Resident, Staff, User

DIRECTORY = "community,compound,building,property_manager\n茶马南街社区,马连道南口三区,5号楼,华远物业\n" \
            "茶马南街社区,马连道南口三区,6,华远物业\n天宁寺北里社区,天宁寺北里,8,\n"


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_import_directory_and_reimport_updates_in_place(db):
    assert import_directory(db, DIRECTORY) == {"buildings_created": 3, "buildings_updated": 0}
    changed = DIRECTORY.replace("天宁寺北里,8,", "天宁寺北里,8,天宁物业")
    assert import_directory(db, changed) == {"buildings_created": 0, "buildings_updated": 3}
    assert (_count(db, Community), _count(db, Compound), _count(db, Building)) == (2, 2, 3)
    eight = db.scalars(select(Building).where(Building.name == "8")).one()
    assert eight.property_manager == "天宁物业"
    assert db.scalars(select(Building).where(Building.name == "5")).one().property_manager == "华远物业"


def test_empty_property_manager_means_unmanaged(db):
    import_directory(db, DIRECTORY)
    assert db.scalars(select(Building).where(Building.name == "8")).one().property_manager is None


@pytest.mark.parametrize("importer,text,message", [
    (import_directory, "community,compound\n茶马南街社区,马连道南口三区\n",
     "第 1 行：缺少列 building,property_manager；表头应为 community,compound,building,property_manager"),
    (import_directory, DIRECTORY + "茶马南街社区,,7,\n", "第 5 行：compound 不能为空"),
    (import_directory, "community,compound,building,property_manager,latitude\n甲,乙,1,,north\n",
     "第 2 行：latitude 应为数字，实际为“north”"),
    (import_directory, DIRECTORY + "甲,乙,1,,extra,values,too,many,x\n", "第 5 行：值比列多"),
    (import_staff, "name,openid,department,community\n王,o1,plumbers,\n",
     "第 2 行：没有“plumbers”这个部门，可选：property, grid"),
    (import_staff, "name,openid,department,community\n王,o1,grid,月球社区\n",
     "第 2 行：没有“月球社区”这个社区（请先用 import-directory 导入街道目录）"),
    (import_staff, "name,openid,department,community\n王,,grid,\n", "第 2 行：name 和 openid 必须填写"),
    (import_residents, "openid,name,phone,compound,building,unit,room\no1,,,火星小区,1,1,101\n",
     "第 2 行：没有“火星小区”这个小区"),
    (import_residents, "openid,name,phone,compound,building,unit,room\no1,,,马连道南口三区,99,1,101\n",
     "第 2 行：小区“马连道南口三区”没有“99”号楼"),
])
def test_bad_files_name_the_line(db, importer, text, message):
    import_directory(db, DIRECTORY)
    args = (utcnow(),) if importer is import_residents else ()
    with pytest.raises(ImportFileError) as caught:
        importer(db, text, *args)
    assert message in str(caught.value)


def test_import_staff_and_residents_update_in_place(db):
    import_directory(db, DIRECTORY)
    staff = "name,openid,department,community\n王,s1,property,茶马南街社区\n沈,s2,enforcement,\n"
    assert import_staff(db, staff) == {"created": 2, "updated": 0}
    assert import_staff(db, staff.replace("王,", "王二,")) == {"created": 0, "updated": 2}
    assert db.scalars(select(Staff.name).where(Staff.openid == "s1")).one() == "王二"
    assert db.scalars(select(Staff).where(Staff.openid == "s2")).one().community_id is None
    people = "openid,name,phone,compound,building,unit,room\no1,张,138,马连道南口3区,5号楼,2,1501\n"
    assert import_residents(db, people, utcnow()) == {"created": 1, "updated": 0}
    assert import_residents(db, people.replace(",2,1501", ",1,101"), utcnow()) == {"created": 0, "updated": 1}
    person = db.scalars(select(Resident)).one()
    assert (person.compound.name, person.building.name, person.unit, person.room) == ("马连道南口三区", "5", "1", "101")


def test_cli_imports_and_reports_bad_file(runner, tmp_path: Path):
    good, bad = tmp_path / "dir.csv", tmp_path / "bad.csv"
    good.write_text(DIRECTORY, encoding="utf-8")
    bad.write_text("name,openid,department,community\n王,o1,plumbers,\n", encoding="utf-8")
    assert runner.invoke(args=["import-directory", str(good)]).exit_code == 0
    result = runner.invoke(args=["import-staff", str(bad)])
    assert result.exit_code == 1 and f"{bad}: 第 2 行：没有“plumbers”这个部门" in result.output
    assert "admin" in result.output and "supervisor" in result.output  # the departments it may use


def test_demo_data_is_idempotent_and_creates_admin(runner, db):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    counts = [_count(db, m) for m in (Community, Compound, Building, Staff, Resident, User)]
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    assert [_count(db, m) for m in (Community, Compound, Building, Staff, Resident, User)] == counts
    assert counts[0] >= 4 and db.scalars(select(User.username)).all() == ["admin"]
    unmanaged = db.scalars(select(Building).where(Building.property_manager.is_(None))).all()
    assert unmanaged and {b.compound.name for b in unmanaged} >= {"茶马南街1号院"}
