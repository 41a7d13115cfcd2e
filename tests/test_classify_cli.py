"""`flask classify`: JSON lines in the app built by create_app, through the conftest `runner`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.storage.models import Case, CaseEvent

# One report per intent, and the gas smell that raises utility to critical (its time limit shrinks).
REPORTS = {
    "leak": "楼上邻居家的水渗到我家卫生间顶上了", "pest": "家里好多蟑螂", "clutter": "楼道里堆满了纸箱子",
    "construction": "院里有人私搭乱建", "utility": "家里停电了", "facility": "楼道灯坏了好几天了",
    "other": "小区的电梯坏了好几天了",
    "gas": "厨房一股煤气味", "emergency": "楼道里冒烟了，好像着火了",
}
# A building with a property company (马连道南口三区 5号楼) and one without (茶马南街1号院 2号楼, 失管).
BUILDINGS = {"managed": ("马连道南口三区", "5"), "unmanaged": ("茶马南街1号院", "2")}


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


def test_one_json_object_per_line(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["classify"], input="楼上漏水了\n水费怎么交\n楼道里堆满了纸箱子\n")
    assert result.exit_code == 0, result.output
    rows = _lines(result.stdout)
    assert [r["intent"] for r in rows] == ["leak", "other", "clutter"]
    assert rows[0] == {"text": "楼上漏水了", "intent": "leak", "confidence": rows[0]["confidence"],
                       "also": [], "terms": ["漏水"]}
    assert 0 < rows[0]["confidence"] <= 1


def test_chinese_is_not_escaped(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["classify"], input="家里停电了\n")
    assert '"text": "家里停电了"' in result.stdout
    assert "\\u" not in result.stdout


def test_empty_line_is_other(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["classify"], input="\n   \n楼上漏水\n")
    rows = _lines(result.stdout)
    assert [(r["text"], r["intent"], r["terms"]) for r in rows[:2]] == [("", "other", []), ("   ", "other", [])]
    assert rows[2]["intent"] == "leak"


def test_explain_adds_scores_and_facts(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["classify", "--explain"], input="厨房里一股煤气味，楼道还堆着杂物\n")
    row = _lines(result.stdout)[0]
    assert row["intent"] == "utility" and "clutter" in row["also"]
    assert set(row["scores"]) == {"emergency", "leak", "pest", "clutter", "construction", "utility", "facility",
                                  "other"}
    assert row["scores"]["utility"] > 0 and row["scores"]["clutter"] > 0
    assert (row["priority"], row["department"], row["safety"], row["time_limit_hours"]) == \
        ("critical", "property", "safety/gas", 2.0)
    assert row["routing"]["unmanaged"] == {"department": "repair", "time_limit_hours": 2.0, "inform": []}
    assert "煤气味" in row["tokens"]


def test_no_input_no_output(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["classify"], input="")
    assert (result.exit_code, result.stdout) == (0, "")


def test_explain_shows_routing_yaml_not_the_intent_module(runner) -> None:  # type: ignore[no-untyped-def]
    # pest: the module once said 168 h while routing.yaml gives a real case 72 h; routing.yaml decides
    row = _lines(runner.invoke(args=["classify", "--explain"], input="家里好多蟑螂\n").stdout)[0]
    assert (row["intent"], row["department"], row["time_limit_hours"]) == ("pest", "health", 72.0)


def test_every_intent_covered(app) -> None:  # type: ignore[no-untyped-def]
    from bot.services import services

    assert set(services(app).classifier.intents) <= set(REPORTS)


@pytest.mark.parametrize("where", sorted(BUILDINGS))
def test_explain_agrees_with_the_case_a_report_opens(runner, wechat, street, tmp_path: Path,  # noqa: F811
                                                     where: str) -> None:  # type: ignore[no-untyped-def]
    compound, building = BUILDINGS[where]
    residents = tmp_path / "residents.csv"
    residents.write_text("openid,name,phone,compound,building,unit,room\n" + "".join(
        f"r-{name},,,{compound},{building},1,101\n" for name in REPORTS), encoding="utf-8")
    assert runner.invoke(args=["import-residents", str(residents)]).exit_code == 0
    explained = _lines(runner.invoke(args=["classify", "--explain"], input="\n".join(REPORTS.values())).stdout)
    for (name, text), row in zip(REPORTS.items(), explained, strict=True):
        wechat.send_text(text, openid=f"r-{name}")
        street.expire_all()
        case = street.scalars(select(Case).where(Case.openid == f"r-{name}")).one()
        created = street.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                         CaseEvent.kind == "created")).one()
        hours = (case.due_at - case.created_at).total_seconds() / 3600
        assert (case.intent, case.priority) == (row["intent"], row["priority"]), name
        assert {"department": case.department, "time_limit_hours": hours,
                "inform": created.data["inform"]} == row["routing"][where], name
