"""Residents' addresses in common forms, matched against the street's directory.

"马连道南口三区5号楼2单元1501", "天宁寺北里6楼3门301", "天宁寺北里6-3-301" and compound
names with a typo (difflib) all parse; the caller confirms a fuzzy match and asks again
when nothing fits.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.compound_names import CN_DIGITS, fold, names
from bot.storage import static_rows
from bot.storage.models import Building, Compound

_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十]+(?=号|楼|栋|幢|单元|门|室)")
# a room in Chinese digits after the unit or building ("一单元五零二", "6楼3门三〇一"), read digit by digit
_CN_ROOM = re.compile(r"(?:(?<=单元)|(?<=[门楼栋幢]))[零〇一二两三四五六七八九]{2,5}(?![零〇一二两三四五六七八九十])")
# a message that is only a room in Chinese digits ("三零一", "就是一五零一"): read digit by digit for _BARE_ROOM
_CN_BARE_ROOM = re.compile(
    r"^(?P<lead>就是|是|在|门牌)?(?P<room>[零〇一二两三四五六七八九]{3,5})(?P<tail>(?:室|号|房)?[。.!！]?)$")
# a comma between an address's parts, as people type them ("二号楼，一门301"): dropped, the parts read as one
_PART_BREAK = re.compile(r"(?<=\d(?:号楼|单元|号门))[,，、.。]+(?=\d)|(?<=\d[楼栋幢门])[,，、.。]+(?=\d)")
_DASHED = re.compile(r"(?P<building>\d+)[-－—~/](?P<unit>\d+)[-－—~/](?P<room>\d{2,5})")
_TAIL = r"(?:(?P<unit>\d+)(?:单元|号门|门))?(?:(?P<room>\d{2,5})(?:室|号|房)?)?"
_WORDED = (re.compile(r"(?P<building>\d+)(?:号楼|栋|幢|楼)" + _TAIL),  # "3号楼" before a bare "1号(院)"
           re.compile(r"(?P<building>\d+)号(?!院)" + _TAIL))
# inside a complaint a bare "楼" is a floor ("二楼漏水"): only 号楼/栋/幢/号 or 6-3-301 name a building there
_IN_REPORT = re.compile(r"(?P<building>\d+)(?:号楼|栋|幢|号(?!院))" + _TAIL)
# the unit and room told further on, as people tell them ("五号楼，我住一单元的三楼，三零二"): within LATER_CHARS
# after the building, a unit, then a room in digits or Chinese digits (not a count: "300多个", "三四天")
_LATER_UNIT = re.compile(r"(?P<unit>\d+)(?:单元|号门|门(?!口))")
_CN_DIGIT = "零〇一二两三四五六七八九"
_LATER_ROOM = re.compile(rf"(?<![\d{_CN_DIGIT}十])(?P<room>\d{{3,4}}|[{_CN_DIGIT}]{{3,4}})(?:室|号|房)?"
                         rf"(?![\d{_CN_DIGIT}十百千楼层岁年天个月块元多余来米斤平])")
LATER_CHARS = 20
_NUMBER = re.compile(r"\d+")
_YARD = re.compile(r"(?P<building>\d+)号院")  # in a bungalow area (平房区) a numbered yard is the "building"
BUNGALOW_WORDS = ("平房",)
FUZZY_MIN = 0.6  # below this SequenceMatcher ratio a compound name is not a candidate
# An address is a line: it is looked for in a message's first 200 characters. The typo search costs
# about 20 µs per character per compound name and the number patterns are quadratic in a run of digits,
# so a whole 60,000-character message took minutes.
MAX_CHARS = 200


@dataclass(frozen=True)
class AddressMatch:
    """What a resident's address text matched; status says what to do next."""

    status: str  # ok | confirm | no_building | unknown_building | unknown
    compound: Compound | None = None
    building: Building | None = None
    unit: str | None = None
    room: str | None = None
    score: float = 0.0
    building_no: str | None = None  # the number the resident gave, also when the directory has no such building


def _cn_int(text: str) -> str:
    """'十二' -> '12', '二十' -> '20', '五' -> '5'."""
    if "十" not in text:
        return "".join(CN_DIGITS.get(ch, ch) for ch in text)
    tens, _, ones = text.partition("十")
    return str(int(CN_DIGITS.get(tens, "1") if tens else 1) * 10 + (int(CN_DIGITS.get(ones, "0")) if ones else 0))


def _digits(text: str) -> str:
    """Half-width, no spaces, Chinese numerals of buildings, units and rooms as digits."""
    text = "".join(unicodedata.normalize("NFKC", text).split())
    text = _CN_NUMBER.sub(lambda m: _cn_int(m.group(0)), text)
    text = _CN_ROOM.sub(lambda m: "".join(CN_DIGITS[ch] for ch in m.group(0)), text)
    text = _CN_BARE_ROOM.sub(lambda m: (m.group("lead") or "") + "".join(CN_DIGITS[ch] for ch in m.group("room"))
                             + m.group("tail"), text)
    return _PART_BREAK.sub("", text)


def parse_place(text: str) -> tuple[str, str | None, str | None, str | None]:
    """(the text before the building, building, unit, room) of an address."""
    text = _digits(text)
    found = _DASHED.search(text) or _WORDED[0].search(text) or _WORDED[1].search(text)
    if found is None:
        return text, None, None, None
    return (text[:found.start()], found.group("building"), *_unit_room(text, found))


def _unit_room(digits: str, building: re.Match[str]) -> tuple[str | None, str | None]:
    """The unit and room right after the building, or told further on (_LATER_UNIT, _LATER_ROOM)."""
    unit, room = building.group("unit"), building.group("room")
    if room is not None:
        return unit, room
    window = digits[building.end():building.end() + LATER_CHARS]
    later = None if unit is not None else _LATER_UNIT.search(window)
    if unit is None and later is None:
        return None, None
    told = _LATER_ROOM.search(window, later.end() if later else 0)
    return (unit or later and later.group("unit"),
            "".join(CN_DIGITS.get(ch, ch) for ch in told.group("room")) if told else None)


def _similarity(name: str, text: str) -> float:
    """Best ratio of `name` against any stretch of `text` of about its length."""
    if not text:
        return 0.0
    size = len(name)
    spans = {text[i:i + width] for width in (size - 1, size, size + 1) if width > 0
             for i in range(max(len(text) - width + 1, 1))}
    return max(SequenceMatcher(None, name, span).ratio() for span in spans)


def _fuzzy_score(name: str, text: str) -> float:
    """How well a compound name fits the text despite a typo; 0 when the text gives other numbers than the
    name ("白纸坊东街11号院" is not "茶马南街1号院", however alike the rest reads; "南口山区" may be "南口三区")."""
    numbers, given = set(_NUMBER.findall(name)), set(_NUMBER.findall(text))
    if numbers and given and not numbers <= given:
        return 0.0
    return _similarity(name, text)


def _folded(session: Session) -> list[tuple[int, list[str]]]:
    return [(row.id, [fold(n) for n in names(row)])  # type: ignore[arg-type]
            for row in session.execute(select(Compound.id, Compound.name, Compound.aliases).order_by(Compound.id))]


def _named(session: Session) -> list[tuple[int, list[str]]]:
    """The street's compounds (ids) with their folded names and aliases: this process's copy of the directory."""
    return static_rows.derived(session, "compound_names", _folded)


def _compound(session: Session, compound_id: int) -> Compound:
    found = static_rows.attach_read(session, Compound, compound_id)
    assert found is not None
    return found


def exact_compound(session: Session, text: str) -> Compound | None:
    """The compound whose name or alias occurs in the text (the longest such name; the first compound on a tie)."""
    folded = fold(text)
    best: tuple[int, int] | None = None
    for compound_id, folded_names in _named(session):
        longest = max((len(n) for n in folded_names if n and n in folded), default=0)
        if longest and (best is None or longest > best[0]):
            best = (longest, compound_id)
    return _compound(session, best[1]) if best else None


def match_compound(session: Session, text: str) -> tuple[Compound | None, float]:
    """(compound, score): 1.0 when a name occurs in the text, else the best fuzzy candidate."""
    exact = exact_compound(session, text)
    if exact is not None:
        return exact, 1.0
    folded = fold(text)
    scored = sorted(((max(_fuzzy_score(n, folded) for n in folded_names), compound_id)
                     for compound_id, folded_names in _named(session)), key=lambda s: (-s[0], s[1]))
    if not scored or scored[0][0] < FUZZY_MIN:
        return None, 0.0
    if len(scored) > 1 and scored[0][0] - scored[1][0] < 0.05:
        return None, 0.0  # two names fit about equally: ask again
    return _compound(session, scored[0][1]), scored[0][0]


def is_bungalow(compound: Compound | str) -> bool:
    """A bungalow area (平房区), given as a compound or its name: its "buildings" are numbered yards (2号院),
    with no units or door numbers."""
    name = compound if isinstance(compound, str) else compound.name
    return any(word in name for word in BUNGALOW_WORDS)


def match_address(session: Session, text: str, hint: Compound | None = None,
                  hint_sure: bool = False) -> AddressMatch:
    """Match an address text; `hint` is the compound a QR code (sure) or a location suggested."""
    text = text[:MAX_CHARS]
    before, building_no, unit, room = parse_place(text)
    compound, score = match_compound(session, before or text)
    if compound is None and hint is not None:
        compound, score = hint, 1.0 if hint_sure else FUZZY_MIN
    if compound is None:
        return AddressMatch("unknown")
    if building_no is None and is_bungalow(compound):
        yard = _YARD.search(_digits(text))
        building_no = yard.group("building") if yard else None
    return _in_compound(session, compound, score, building_no, unit, room)


def _in_compound(session: Session, compound: Compound, score: float, building_no: str | None,
                 unit: str | None, room: str | None) -> AddressMatch:
    """The match once the compound is known: its building looked up, confirmed unless the name was exact."""
    if building_no is None:
        return AddressMatch("no_building", compound, score=score)
    building = session.scalars(select(Building).where(
        Building.compound_id == compound.id, Building.name == building_no)).one_or_none()
    if building is None:
        return AddressMatch("unknown_building", compound, unit=unit, room=room, score=score, building_no=building_no)
    status = "ok" if score >= 1.0 else "confirm"
    return AddressMatch(status, compound, building, unit, room, score, building_no)


def match_in_report(session: Session, text: str) -> AddressMatch:
    """The place a complaint names by itself ("我家在马连道南口三区2号楼，水管裂了"): only a compound
    named exactly counts, and a building written as 号楼/栋/幢/号 or 6-3-301; otherwise unknown."""
    compound = exact_compound(session, text)
    if compound is None:
        return AddressMatch("unknown")
    digits = _digits(text)
    worded = _WORDED[0].search(digits)  # "6楼3门301": a bare 楼 with a unit after it is a building, not a floor
    found = _DASHED.search(digits) or _IN_REPORT.search(digits) or (worded if worded and worded.group("unit") else None)
    if found is None and is_bungalow(compound):  # "红莲南里平房区2号院旁边有人盖房": the yard is the place
        yard = _YARD.search(digits)
        return _in_compound(session, compound, 1.0, yard.group("building") if yard else None, None, None)
    if found is None:
        return _in_compound(session, compound, 1.0, None, None, None)
    return _in_compound(session, compound, 1.0, found.group("building"), *_unit_room(digits, found))


# A unit and room without the building ("2单元1501", "三单元五零二", "就是3门301"): completes a known building.
_UNIT_ROOM = re.compile(r"(?<![\d\-])(?P<unit>\d+)(?:单元|号门|门)(?P<room>\d{2,5})?")
# what a correction says the place is not ("不对，我不是5号楼，是6号楼"): left out of the follow-up's place
_NEGATED = re.compile(r"不是[^，,。；;！!]*?(?=是|[，,。；;！!]|$)")
# a room alone, the whole message ("502", "就是502室"): completes a known building and unit
_BARE_ROOM = re.compile(r"^(?:就是|是|在|门牌)?(?P<room>\d{3,5})(?:室|号|房)?[。.!！]?$")


@dataclass(frozen=True)
class PlaceParts:
    """The parts of a place a later message names: a compound named exactly, a building, a unit, a room."""

    compound: Compound | None
    building: str | None
    unit: str | None
    room: str | None

    @property
    def any(self) -> bool:
        return bool(self.building or self.unit or self.room)


def parts_in_message(session: Session, text: str, bungalow: bool = False) -> PlaceParts:
    """What of an address a follow-up message names ("2单元1501", "不对，是7号楼", "天宁寺北里2号楼");
    a bare 楼 counts only with a unit after it ("6楼3门301"), else it is a floor ("二楼也漏了").
    `bungalow`: the case is in a 平房区, where "2号院" is the yard (its "building")."""
    text = _NEGATED.sub("", text[:MAX_CHARS])
    compound = exact_compound(session, text)
    digits = _digits(text)
    worded = _WORDED[0].search(digits)
    yard = _YARD.search(digits) if bungalow or (compound is not None and is_bungalow(compound)) else None
    found = _DASHED.search(digits) or _IN_REPORT.search(digits) or (
        worded if worded and worded.group("unit") else None) or yard
    if found is yard and yard is not None:
        return PlaceParts(compound, yard.group("building"), None, None)
    if found is not None:
        return PlaceParts(compound, found.group("building"), found.group("unit"), found.group("room"))
    unit_room = _UNIT_ROOM.search(digits)
    if unit_room is None:
        bare = _BARE_ROOM.match(digits)
        return PlaceParts(compound, None, None, bare.group("room") if bare else None)
    return PlaceParts(compound, None, unit_room.group("unit"), unit_room.group("room"))


def building_of(session: Session, compound: Compound, name: str) -> Building | None:
    """The compound's building of this name (number), if the directory has it."""
    return session.scalars(select(Building).where(
        Building.compound_id == compound.id, Building.name == name)).one_or_none()


def is_bare_address(text: str) -> bool:
    """Whether the message is nothing but an address ("红莲北里4号楼2单元301", "我住天宁寺北里6-3-301"):
    no more than a few characters before the compound's part and nothing much after the room."""
    digits = _digits(text[:MAX_CHARS]).rstrip("。.!！~")
    found = _DASHED.search(digits) or _WORDED[0].search(digits) or _WORDED[1].search(digits)
    return found is not None and len(digits) - found.end() <= 1 and found.group("unit") is not None
