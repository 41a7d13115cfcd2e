"""睦邻坊 groups per building through `flask --app bot mulinfang add|remove|list` (issue 15, item 1)."""
from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.devtools.demo import DEMO_DIR
from bot.storage.models import MulinfangMember

ADD = ["mulinfang", "add", "--compound", "马连道南口三区", "--building", "5"]


def _street(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["import-directory", str(DEMO_DIR / "directory.csv")]).exit_code == 0


def _add(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=[*ADD, *args])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_add_list_remove(runner: FlaskCliRunner, db: Session) -> None:
    _street(runner)
    assert _add(runner, "--openid", "o-zhang", "--name", "张阿姨", "--role", "楼门长", "--contact", "--phone",
                "13800000001") == "已加入睦邻坊：马连道南口三区5号楼 张阿姨（楼门长，联系人）"
    _add(runner, "--openid", "o-li", "--name", "李老师", "--role", "党员")
    runner.invoke(args=["mulinfang", "add", "--compound", "马连道南口三区", "--building", "6号楼", "--openid", "o-wu",
                        "--name", "吴社工", "--role", "社工"])
    listing = runner.invoke(args=["mulinfang", "list"]).output
    assert listing.splitlines() == [
        "马连道南口三区5号楼睦邻坊（2 人）", "  李老师　党员　o-li", "  张阿姨　楼门长　联系人　13800000001　o-zhang",
        "马连道南口三区6号楼睦邻坊（1 人）", "  吴社工　社工　o-wu"]
    result = runner.invoke(args=["mulinfang", "remove", "--openid", "o-li", "--compound", "马连道南口三区",
                                 "--building", "5"])
    assert result.exit_code == 0 and result.output.strip() == "已移出睦邻坊：马连道南口三区5号楼 李老师（党员）"
    assert [m.openid for m in db.scalars(select(MulinfangMember).order_by(MulinfangMember.id))] == ["o-zhang", "o-wu"]


def test_adding_again_changes_the_role_in_place(runner: FlaskCliRunner, db: Session) -> None:
    _street(runner)
    _add(runner, "--openid", "o-zhang", "--name", "张阿姨", "--role", "志愿者")
    _add(runner, "--openid", "o-zhang", "--name", "张桂兰", "--role", "老住户")
    [member] = db.scalars(select(MulinfangMember)).all()
    assert (member.name, member.role, member.status, member.created_by) == ("张桂兰", "老住户", "active", "cli")


def test_list_one_compound_and_an_empty_list(runner: FlaskCliRunner) -> None:
    _street(runner)
    assert runner.invoke(args=["mulinfang", "list"]).output.strip() == "暂无睦邻坊成员。"
    _add(runner, "--openid", "o-zhang", "--name", "张阿姨", "--role", "志愿者")
    assert "张阿姨" not in runner.invoke(args=["mulinfang", "list", "--compound", "天宁寺北里"]).output
    assert "张阿姨" in runner.invoke(args=["mulinfang", "list", "--compound", "马连道南口三区"]).output


def test_errors_are_chinese(runner: FlaskCliRunner) -> None:
    _street(runner)
    cases = [
        (["mulinfang", "add", "--compound", "火星小区", "--building", "5", "--openid", "o", "--name", "王",
          "--role", "志愿者"], "没有名为“火星小区”的小区"),
        (["mulinfang", "add", "--compound", "马连道南口三区", "--building", "99", "--openid", "o", "--name", "王",
          "--role", "志愿者"], "小区“马连道南口三区”没有“99”号楼"),
        ([*ADD, "--openid", " ", "--name", "王", "--role", "志愿者"], "openid 和姓名必须填写"),
        (["mulinfang", "remove", "--openid", "o-nobody", "--compound", "马连道南口三区", "--building", "5"],
         "5号楼的睦邻坊里没有 openid 为 o-nobody 的成员"),
        (["mulinfang", "list", "--compound", "火星小区"], "没有名为“火星小区”的小区"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    result = runner.invoke(args=[*ADD, "--openid", "o", "--name", "王", "--role", "保安"])
    assert result.exit_code == 2  # click refuses a role that is not one of the five
