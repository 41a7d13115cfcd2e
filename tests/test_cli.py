"""Every command the README documents, run as documented through app.test_cli_runner(), errors in Chinese."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import fmt_local, utcnow
from bot.config import ROOT
from bot.devtools.demo import DEMO_DIR
from bot.storage.models import Building, Case, Compound, Outbox, Resident, Staff, User
from tests.helpers_intake import BOUND
from tests.wechat import WeChat

README = (ROOT / "README.md").read_text(encoding="utf-8")
STAFF_CSV = "name,openid,department,community\n王物业,o-property,property,茶马南街社区\n街道管理员,o-admin,admin,\n"
RESIDENTS_CSV = "openid,name,phone,compound,building,unit,room\no-zhang,张阿姨,13800000009,马连道南口三区,5,2,1501\n"
# Commands run through the CLI runner here, or in the test module named beside them; the README's
# `flask --app bot ...` lines must all be among them.
TESTED = {"init-db", "import-directory", "import-staff", "import-residents", "user create", "demo-data", "cases",
          "case accept", "case resolve", "case reopen", "notice create", "notice list", "notice show",
          "notice cancel", "classify",
          "mulinfang add", "mulinfang remove", "mulinfang list",  # tests/test_mulinfang.py
          "user edit", "user disable", "user enable", "user reset",  # tests/test_users.py
          "outbox",  # tests/test_outbox_cli.py
          "qr", "notice sheet", "menu push", "menu check",  # tests/test_qr_sheets.py, tests/test_menu.py
          "consult", "project"}  # tests/test_consultations.py, tests/test_projects.py


def ok(runner: FlaskCliRunner, *args: str, stdin: str | None = None) -> Result:
    """Run a command; it must succeed."""
    result = runner.invoke(args=list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result


def refused(runner: FlaskCliRunner, *args: str) -> str:
    """Run a command that must fail with a message for staff (exit 1, Chinese, no traceback)."""
    result = runner.invoke(args=list(args))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and re.search(r"[\u4e00-\u9fff]", result.output), result.output
    return result.output


def csv(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_readme_documents_only_commands_tested_here() -> None:
    documented = set()
    for line in re.findall(r"flask --app bot ([a-z-]+(?: [a-z|]+)?)", README):
        group, _, rest = line.partition(" ")
        subs = rest.split("|") if group in ("case", "notice", "user", "mulinfang", "menu") and rest else [""]
        documented |= {f"{group} {sub}".strip() for sub in subs}
    documented |= {"notice show", "notice cancel"}  # "notice list | show ID | cancel ID"
    assert documented <= TESTED, documented - TESTED


def test_registered_commands(app) -> None:  # type: ignore[no-untyped-def]
    assert {c.split()[0] for c in TESTED} <= set(app.cli.commands)


# --- directory and people ------------------------------------------------------------------------

def test_init_db_is_safe_to_repeat(runner: FlaskCliRunner) -> None:
    assert "database is up to date" in ok(runner, "init-db").output
    ok(runner, "init-db")


def test_import_directory_then_again_updates_in_place(runner: FlaskCliRunner, db: Session) -> None:
    path = str(DEMO_DIR / "directory.csv")
    first = ok(runner, "import-directory", path).output
    count = db.scalar(select(Building.id).order_by(Building.id.desc()).limit(1))
    assert re.search(r"buildings_created: [1-9]\d*, buildings_updated: 0", first)
    again = ok(runner, "import-directory", path).output
    assert re.search(r"buildings_created: 0, buildings_updated: [1-9]", again)
    assert db.scalar(select(Building.id).order_by(Building.id.desc()).limit(1)) == count
    unmanaged = db.scalars(select(Compound).where(Compound.name == "茶马南街1号院")).one()
    assert all(b.property_manager is None for b in db.scalars(select(Building).where(
        Building.compound_id == unmanaged.id)))  # empty property_manager = 失管


def test_import_staff_and_residents(runner: FlaskCliRunner, db: Session, tmp_path: Path) -> None:
    ok(runner, "import-directory", str(DEMO_DIR / "directory.csv"))
    assert ok(runner, "import-staff", csv(tmp_path, "staff.csv", STAFF_CSV)).output.strip() == "created: 2, updated: 0"
    departments = dict(db.execute(select(Staff.openid, Staff.department)).all())
    assert departments == {"o-property": "property", "o-admin": "admin"}
    assert ok(runner, "import-residents", csv(tmp_path, "r.csv", RESIDENTS_CSV)).output.strip() == \
        "created: 1, updated: 0"
    resident = db.scalars(select(Resident).where(Resident.openid == "o-zhang")).one()
    assert (resident.compound.name, resident.building.name, resident.unit, resident.room) == \
        ("马连道南口三区", "5", "2", "1501")


def test_imports_refuse_a_bad_file_in_chinese_and_store_nothing(runner: FlaskCliRunner, db: Session,
                                                                  tmp_path: Path) -> None:
    out = refused(runner, "import-directory", csv(tmp_path, "d.csv", "community,compound\n甲,乙\n"))
    assert "缺少列 building" in out
    ok(runner, "import-directory", str(DEMO_DIR / "directory.csv"))
    out = refused(runner, "import-staff", csv(tmp_path, "s.csv", STAFF_CSV + "李,o-x,police,\n"))
    assert "第 4 行" in out and "没有“police”这个部门" in out
    assert db.scalars(select(Staff)).all() == []  # the good lines before it are not kept
    unknown = RESIDENTS_CSV.replace("马连道南口三区", "火星小区")
    out = refused(runner, "import-residents", csv(tmp_path, "r.csv", unknown))
    assert "第 2 行：没有“火星小区”这个小区" in out


def test_user_create_admin_and_staff(runner: FlaskCliRunner, db: Session) -> None:
    ok(runner, "import-directory", str(DEMO_DIR / "directory.csv"))
    assert ok(runner, "user", "create", "--username", "chen", "--role", "admin", "--password",
              "a-long-secret").output.strip() == "created admin chen"
    ok(runner, "user", "create", "--username", "wang", "--role", "staff", "--department", "property",
       "--community", "茶马南街社区", "--password", "a-long-secret")
    wang = db.scalars(select(User).where(User.username == "wang")).one()
    assert (wang.role, wang.department, wang.community_id is not None) == ("staff", "property", True)
    assert "用户 wang 已经存在" in refused(runner, "user", "create", "--username", "wang", "--role", "staff",
                                         "--password", "a-long-secret")
    assert "没有“police”这个部门" in refused(runner, "user", "create", "--username", "li", "--role", "staff",
                                           "--department", "police", "--password", "a-long-secret")
    assert "没有名为“月球社区”的社区" in refused(runner, "user", "create", "--username", "li", "--role", "staff",
                                             "--community", "月球社区", "--password", "a-long-secret")


def test_demo_data(runner: FlaskCliRunner, db: Session) -> None:
    out = ok(runner, "demo-data").output
    assert out.startswith("demo data ready: directory ") and "residents" in out
    assert db.scalars(select(User.username)).all() == ["admin"]


# --- cases -----------------------------------------------------------------------------------------

@pytest.fixture
def reported(runner: FlaskCliRunner, wechat: WeChat, db: Session) -> str:
    """The demo street and one resident's leak report through the webhook; its case number."""
    ok(runner, "demo-data")
    assert wechat.send_text("楼上漏水，顶棚一直滴水", openid=BOUND).status == 200
    return db.scalars(select(Case.number).where(Case.openid == BOUND)).one()


def test_cases_json(runner: FlaskCliRunner, reported: str) -> None:
    [row] = json.loads(ok(runner, "cases", "--json").output)
    assert (row["number"], row["intent"], row["status"], row["department"], row["compound"], row["building"]) == \
        (reported, "leak", "open", "property", "马连道南口三区", "5")
    assert ok(runner, "cases").output.startswith(reported)


def test_case_accept_resolve_reopen(runner: FlaskCliRunner, reported: str, db: Session) -> None:
    assert ok(runner, "case", "accept", reported, "--by", "王物业").output.strip() == f"{reported}: in_progress"
    assert ok(runner, "case", "resolve", reported, "--note", "已更换水管").output.strip() == f"{reported}: resolved"
    assert ok(runner, "case", "reopen", reported).output.strip() == f"{reported}: open"
    case = db.scalars(select(Case).where(Case.number == reported)).one()
    assert [(e.kind, e.actor) for e in case.events][1:] == [("accept", "王物业"), ("resolve", "staff"),
                                                            ("reopen", "staff")]
    told = db.scalars(select(Outbox.payload).where(Outbox.openid == BOUND, Outbox.purpose == "case_status")).all()
    assert len(told) == 3 and "已更换水管" in told[1]["text"]


def test_case_errors_in_chinese(runner: FlaskCliRunner, reported: str) -> None:
    assert "没有编号为 19990101-0001 的工单" in refused(runner, "case", "accept", "19990101-0001")
    assert f"工单 {reported} 当前为“待受理”，不能重新打开" in refused(runner, "case", "reopen", reported)


# --- notices ---------------------------------------------------------------------------------------

def test_notice_create_list_show_cancel(runner: FlaskCliRunner, db: Session) -> None:
    ok(runner, "demo-data")
    at = fmt_local(utcnow() + timedelta(days=4))
    first = int(ok(runner, "notice", "create", "--compound", "马连道南口三区", "--buildings", "1,2,6", "--at", at,
                   "--text", "请清理楼道内自行车和杂物").output.splitlines()[-1])
    second = int(ok(runner, "notice", "create", "--community", "茶马南街社区", "--at", at, "--text",
                    "请清理楼道").output.splitlines()[-1])
    listing = ok(runner, "notice", "list").output
    assert f"#{first} " in listing and f"#{second} " in listing
    shown = ok(runner, "notice", "show", str(first)).output
    assert "内容：请清理楼道内自行车和杂物" in shown and "马连道南口三区" in shown
    assert f"已取消通知 #{second}" in ok(runner, "notice", "cancel", str(second)).output
    assert f"通知 #{second}（已取消）" in ok(runner, "notice", "show", str(second)).output
    assert "马连道南口三区（1号楼、2号楼、6号楼）" in shown


def test_notice_errors_in_chinese(runner: FlaskCliRunner) -> None:
    ok(runner, "demo-data")
    at = fmt_local(utcnow() + timedelta(days=4))
    assert "没有名为“火星小区”的小区" in refused(runner, "notice", "create", "--compound", "火星小区", "--at", at,
                                             "--text", "x")
    assert "没有这些楼：99" in refused(runner, "notice", "create", "--compound", "马连道南口三区", "--buildings",
                                     "99", "--at", at, "--text", "x")
    assert "请指定一个小区或一个社区" in refused(runner, "notice", "create", "--at", at, "--text", "x")
    assert "清理时间已经过去了" in refused(runner, "notice", "create", "--community", "茶马南街社区", "--at",
                                       fmt_local(utcnow() - timedelta(days=1)), "--text", "x")
    assert "没有编号为 999 的通知" in refused(runner, "notice", "show", "999")


# --- classify --------------------------------------------------------------------------------------

def test_classify_as_documented(runner: FlaskCliRunner) -> None:
    [row] = [json.loads(line) for line in ok(runner, "classify", stdin="楼上漏水了\n").output.splitlines()]
    assert row["intent"] == "leak"
    [explained] = [json.loads(line) for line in
                   ok(runner, "classify", "--explain", stdin="楼上漏水了\n").output.splitlines()]
    assert (explained["department"], explained["time_limit_hours"], explained["inform"]) == \
        ("property", 24.0, ["grid"])
