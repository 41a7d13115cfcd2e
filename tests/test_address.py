"""Addresses in common forms, matched against the directory (exact, typo, unknown)."""
from __future__ import annotations

import time

import pytest

from handlers.understanding.address import MAX_CHARS, match_address, parse_place
from tests.helpers_intake import street  # noqa: F401


@pytest.mark.parametrize("text,expected", [
    ("马连道南口三区5号楼2单元1501", ("马连道南口三区", "5", "2", "1501")),
    ("天宁寺北里6楼3门301", ("天宁寺北里", "6", "3", "301")),
    ("天宁寺北里6-3-301", ("天宁寺北里", "6", "3", "301")),
    ("马连道南口三区 5号楼 2单元 1501室", ("马连道南口三区", "5", "2", "1501")),
    ("马连道南口三区五号楼二单元1501", ("马连道南口三区", "5", "2", "1501")),
    ("天宁寺北里十二号楼101", ("天宁寺北里", "12", None, "101")),
    ("茶马南街1号院3号楼2门101", ("茶马南街1号院", "3", "2", "101")),
    ("马连道南口三区5号楼", ("马连道南口三区", "5", None, None)),
    ("天宁寺北里", ("天宁寺北里", None, None, None)),
])
def test_parse_place(text, expected):
    assert parse_place(text) == expected


@pytest.mark.parametrize("text,status,compound,building", [
    ("马连道南口三区5号楼2单元1501", "ok", "马连道南口三区", "5"),
    ("我家住马连道南口3区5号楼2单元1501", "ok", "马连道南口三区", "5"),
    ("南口三区5号楼2单元1501", "ok", "马连道南口三区", "5"),  # alias
    ("马连道南口山区5号楼2单元1501", "confirm", "马连道南口三区", "5"),  # typo
    ("天宁四北里6楼3门301", "confirm", "天宁寺北里", "6"),
    ("茶马南街一号院2号楼1门201", "ok", "茶马南街1号院", "2"),
    ("天宁寺北里", "no_building", "天宁寺北里", None),
    ("天宁寺北里99号楼1门101", "unknown_building", "天宁寺北里", None),
    ("火星基地1号楼1单元101", "unknown", None, None),
    ("楼上漏水了", "unknown", None, None),
])
def test_match_address(street, text, status, compound, building):
    found = match_address(street, text)
    assert found.status == status
    assert (found.compound.name if found.compound else None) == compound
    assert (found.building.name if found.building else None) == building


@pytest.mark.parametrize("tail", ["a" * 60000, "，" + "1" * 60000, "。楼上邻居家的水管坏了，水一直往我家天花板上渗" * 2000])
def test_long_message_with_an_address_is_matched_quickly(street, tail):
    started = time.monotonic()
    found = match_address(street, "马连道南口三区5号楼2单元1501" + tail)
    assert time.monotonic() - started < 2  # generous: the whole text took minutes (a quadratic digit pattern)
    assert (found.status, found.building.name, found.unit, found.room) == ("ok", "5", "2", "1501")


def test_address_is_looked_for_in_the_first_max_chars(street):
    assert match_address(street, "1" * 60000).status == "unknown"
    assert match_address(street, "请" * MAX_CHARS + "马连道南口三区5号楼2单元1501").status == "unknown"
