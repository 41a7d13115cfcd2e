"""Addresses in common forms, matched against the directory (exact, typo, unknown)."""
from __future__ import annotations

import time

import pytest

from handlers.understanding.address import MAX_CHARS, match_address, match_in_report, parse_place, parts_in_message


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
    ("天宁寺北里二号楼，一门301", ("天宁寺北里", "2", "1", "301")),  # typed with commas between the parts
    ("红莲北里5号楼、2单元、301", ("红莲北里", "5", "2", "301")),
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
    ("白纸坊东街11号院", "unknown", None, None),  # reads like 茶马南街1号院, but its number is another
    ("茶马南接1号院2号楼", "confirm", "茶马南街1号院", "2"),  # a typo, the same number
    ("楼上漏水了", "unknown", None, None),
])
def test_match_address(street, text, status, compound, building):
    found = match_address(street, text)
    assert found.status == status
    assert (found.compound.name if found.compound else None) == compound
    assert (found.building.name if found.building else None) == building


@pytest.mark.parametrize("tail", ["a" * 60000, "，" + "1" * 60000,
                                  "。楼上邻居家的水管坏了，水一直往我家天花板上渗" * 2000])
def test_long_message_with_an_address_is_matched_quickly(street, tail):
    started = time.monotonic()
    found = match_address(street, "马连道南口三区5号楼2单元1501" + tail)
    assert time.monotonic() - started < 2  # generous: the whole text took minutes (a quadratic digit pattern)
    assert (found.status, found.building.name, found.unit, found.room) == ("ok", "5", "2", "1501")


def test_address_is_looked_for_in_the_first_max_chars(street):
    assert match_address(street, "1" * 60000).status == "unknown"
    assert match_address(street, "请" * MAX_CHARS + "马连道南口三区5号楼2单元1501").status == "unknown"


@pytest.mark.parametrize("text,expected", [
    ("茶马南街1号院二号楼一单元五零二", ("茶马南街1号院", "2", "1", "502")),
    ("天宁寺北里六号楼三单元三〇一", ("天宁寺北里", "6", "3", "301")),
    ("天宁寺北里6楼3门三零一", ("天宁寺北里", "6", "3", "301")),
])
def test_rooms_in_chinese_numerals(text, expected):
    assert parse_place(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("马连道南口三区，我们那个楼是五号楼，我住一单元的三楼，三零二", ("5", "1", "302")),  # an elderly resident's way
    ("马连道南口三区5号楼，二单元，住502", ("5", "2", "502")),
    ("天宁寺北里六号楼一门，三〇一", ("6", "1", "301")),
    ("马连道南口三区5号楼的1单元楼道里堆了300多个箱子", ("5", "1", None)),  # a count, not a room
    ("马连道南口三区5号楼2单元，三楼漏水了好几天", ("5", "2", None)),  # a floor
    ("马连道南口三区5号楼1单元门口有三四个箱子", ("5", "1", None)),
])
def test_the_unit_and_room_told_further_on(street, text, expected):
    assert parse_place(text)[1:] == expected
    found = match_in_report(street, text)
    assert (found.building.name, found.unit, found.room) == expected


@pytest.mark.parametrize("text,room", [
    ("三零一", "301"), ("就是一五零一", "1501"), ("三〇一室。", "301"), ("两三天了", None), ("二楼也漏了", None),
])
def test_a_room_alone_in_chinese_numerals(street, text, room):
    assert parts_in_message(street, text).room == room


@pytest.mark.parametrize("text,building", [
    ("不对，我不是5号楼，是6号楼", "6"), ("不是5号楼是6号楼", "6"), ("不是5号楼", None), ("不对，是7号楼", "7"),
])
def test_the_building_said_not_to_be_the_place_is_left_out(street, text, building):
    assert parts_in_message(street, text).building == building


@pytest.mark.parametrize("text,status,compound,building,room", [
    ("我家在马连道南口三区2号楼，卫生间水管裂了，水一直往外冒", "ok", "马连道南口三区", "2", None),
    ("天宁寺北里6-3-301楼上漏水", "ok", "天宁寺北里", "6", "301"),
    ("我是天宁寺北里的，楼上又往下渗水了", "no_building", "天宁寺北里", None, None),
    ("马连道南口三区，二楼漏水", "no_building", "马连道南口三区", None, None),  # 二楼 is a floor here
    ("茶马南街1号院后边有人在盖小房", "no_building", "茶马南街1号院", None, None),
    ("马连道南口山区楼上漏水", "unknown", None, None, None),  # a typo is not enough inside a complaint
    ("楼上漏水，天花板一直往下滴水", "unknown", None, None, None),
])
def test_place_inside_a_complaint(street, text, status, compound, building, room):
    found = match_in_report(street, text)
    assert found.status == status
    assert (found.compound.name if found.compound else None) == compound
    assert (found.building.name if found.building else None) == building
    assert found.room == room


@pytest.mark.parametrize("text,building", [("红莲南里平房区2号院", "2"), ("红莲平房3号", "3"),
                                           ("红莲南里平房区二号院", "2")])
def test_bungalow_yards_are_buildings(street, text, building):
    found = match_address(street, text)
    assert (found.status, found.compound.name, found.building.name) == ("ok", "红莲南里平房区", building)
