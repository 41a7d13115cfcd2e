"""`flask classify`: JSON lines in the app built by create_app, through the conftest `runner`."""
from __future__ import annotations

import json




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
    assert set(row["scores"]) == {"leak", "pest", "clutter", "construction", "utility", "other"}
    assert row["scores"]["utility"] > 0 and row["scores"]["clutter"] > 0
    assert (row["priority"], row["department"], row["safety"], row["time_limit_hours"]) == \
        ("critical", "property", "safety/gas", 2.0)
    assert "煤气味" in row["tokens"]


def test_no_input_no_output(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["classify"], input="")
    assert (result.exit_code, result.stdout) == (0, "")
