"""The words residents use for commands and yes/no answers (handlers/commands.yaml)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

WORDS_PATH = Path(__file__).with_name("commands.yaml")
PARTICLES = "啊呀哈啦哦嘛呢吧噢喽了"  # sentence-final particles: "谢谢啊" is still only thanks
QUESTION_TOPIC_MAX_CHARS = 12  # "我想问问垃圾分类的事": a topic, not yet the question
CLAUSE_END = re.compile(r"([。！!？?；;，,\n])")  # "社区电话是多少？" is a clause of a longer report
_PUNCT = re.compile(r"[\s,.!?;:，。！？；：、~…\"'“”‘’()（）【】]+")


@lru_cache(maxsize=1)
def _words() -> dict[str, Any]:
    words: dict[str, Any] = yaml.safe_load(WORDS_PATH.read_text(encoding="utf-8"))
    return words


@lru_cache(maxsize=4096)  # a message is matched against dozens of word lists, and the lists' own words recur
def clean(text: str | None) -> str:
    """The text as matched: NFKC, lower case, without spaces and punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text or "").lower())


def contains_any(cleaned: str, words: Collection[str]) -> bool:
    """Whether one of the words is in the cleaned text: one regex search, its pattern compiled once per word list
    (the lists are read once and never change; a message is matched against dozens of them)."""
    found = _PATTERNS.get(id(words))
    if found is None or found[0] is not words:  # kept with its list: an id is not reused while the list lives
        found = _PATTERNS[id(words)] = (words, re.compile("|".join(map(re.escape, words))) if words else None)
    return found[1] is not None and found[1].search(cleaned) is not None


_PATTERNS: dict[int, tuple[Collection[str], re.Pattern[str] | None]] = {}


@cache
def _cleaned(*path: str) -> frozenset[str]:
    """The cleaned words of one list in commands.yaml (a top-level list, or one entry of a table), once."""
    node: Any = _words()
    for key in path:
        node = node[key]
    return frozenset(clean(str(w)) for w in node)


@cache
def _by_length(name: str) -> tuple[str, ...]:
    """The cleaned words of a list, longest first (none empty; in the file's order among equal lengths)."""
    return tuple(sorted(dict.fromkeys(w for w in map(clean, _words()[name]) if w), key=len, reverse=True))


def command_of(text: str | None) -> str | None:
    """The command a whole message is (cancel, handoff, address, my_cases, help), or None."""
    cleaned = clean(text)
    if not cleaned and (text or "").strip() in ("?", "？"):
        return "help"
    table = _command_words()
    asked = [cleaned, *(cleaned[len(p):] for p in _by_length("command_asks") if cleaned.startswith(p))]  # "我要改地址"
    for said in asked:  # "我要撤销刚才的工单": tails taken off one at a time, longest first ("取消那个工单吧")
        while said not in table:
            tail = next((t for t in _by_length("command_tails") if said.endswith(t) and len(said) > len(t)), None)
            if tail is None:
                break
            said = said[:-len(tail)]
        else:
            return table[said]
    return None


@cache
def _command_words() -> dict[str, str]:
    """Each cleaned command word and its command (a word in two lists: the first list's)."""
    return {word: str(name) for name in reversed(list(_words()["commands"])) for word in _cleaned("commands", name)}


def is_yes(text: str | None) -> bool:
    """Whether the message says yes."""
    return clean(text) in _cleaned("answer_yes")


def is_register(text: str | None) -> bool:
    """Whether the message asks for a case to be registered after all ("登记", "需要", "好的")."""
    return clean(text) in _cleaned("register") or is_yes(text)


def is_no(text: str | None) -> bool:
    """Whether the message says no."""
    return clean(text) in _cleaned("answer_no")


def is_courtesy(text: str | None) -> bool:
    """Whether the message is only thanks or an acknowledgement ("谢谢", "好的收到"), maybe to someone
    ("好的谢谢你闺女", "师傅辛苦了")."""
    rest = clean(text)
    thanked = False
    for word in _by_length("courtesy"):
        thanked, rest = thanked or word in rest, rest.replace(word, "")
    for word in _by_length("addressees"):
        rest = rest.replace(word, "")
    return thanked and not rest.strip(PARTICLES)  # "谢谢啊", "好的呀"


def is_thanks(text: str | None) -> bool:
    """Whether the message thanks someone ("谢谢", "师傅辛苦了"), not only acknowledges ("好吧")."""
    cleaned = clean(text)
    return contains_any(cleaned, _cleaned("thanks"))


def is_correction(text: str | None) -> bool:
    """Whether the message corrects something said before ("不对，是7号楼", "写错了")."""
    cleaned = clean(text)
    return contains_any(cleaned, _cleaned("corrections"))


def is_public_place(text: str | None) -> bool:
    """Whether the message names a place the compound shares (院子, 楼顶, 胡同 …) and not the resident's home."""
    cleaned = clean(text)
    if contains_any(cleaned, _cleaned("home_places")):
        return False
    return contains_any(cleaned, _cleaned("public_places"))


@cache
def _longest_first(*names: str) -> tuple[str, ...]:
    """The cleaned words of several lists, longest first (once per combination)."""
    return tuple(sorted(dict.fromkeys(w for name in names for w in _by_length(name)), key=len, reverse=True))


def _only(text: str | None, wanted: str, *around: str) -> bool:
    """Whether the whole message is words of the list `wanted` (one at least) and of the lists `around`, emoji and
    signs aside."""
    found = _made_of(clean(text), _longest_first(wanted, *around))
    return found is not None and not found.isdisjoint(_by_length(wanted))


def _made_of(cleaned: str, words: tuple[str, ...]) -> set[str] | None:
    """The words (longest first) a cleaned text is made of, particles, emoji and signs aside; None when it is not."""
    rest, found = "".join(ch for ch in cleaned if ch.isalnum()), set()  # "早上好🌞"
    while rest := rest.lstrip(PARTICLES):
        word = next((w for w in words if rest.startswith(w)), None)
        if word is None:
            return None
        rest = rest[len(word):]
        found.add(word)
    return found


def is_greeting(text: str | None) -> bool:
    """Whether the whole message only greets ("您好", "在吗", "有人吗", "你好啊", "喂喂", "在吗在吗")."""
    return _only(text, "greetings")


def without_greeting(text: str) -> str:
    """The message after the greetings it starts with ("你好，我住天宁寺北里" → "我住天宁寺北里")."""
    parts = clauses(text, len(text))
    while len(parts) > 1 and is_greeting(parts[0][0]):
        parts = parts[1:]
    return "".join(clause + end for clause, end in parts)


def is_preface(text: str | None) -> bool:
    """Whether the whole message only says a problem is coming ("我要投诉", "师傅，我想跟你们反映个情况")."""
    return _only(text, "preface", "greetings", "addressees", "preface_fillers")


def after_move(text: str | None) -> str | None:
    """The words after the last moving cue of a message ("我搬家了，现在住X" → "X"), None without one."""
    plain = unicodedata.normalize("NFKC", text or "")
    ends = [plain.rfind(w) + len(w) for w in _words()["moved"] if w in plain]
    return plain[max(ends):].strip(" ，,。：:") if ends else None


def question_topic(text: str | None) -> str | None:
    """What a message that only says a question is coming is about ("我想问问垃圾分类的事" → "垃圾分类"), else None."""
    cleaned = clean(text)
    for lead in _by_length("question_leads"):
        at = cleaned.find(lead)
        if at < 0 or _made_of(cleaned[:at], _longest_first("greetings", "addressees", "preface_fillers")) is None:
            continue
        rest = cleaned[at + len(lead):].rstrip(PARTICLES)
        tail = next((t for t in _by_length("question_tails") if rest.endswith(t)), None)
        topic = rest[:-len(tail)] if tail else ""
        return topic if 0 < len(topic) <= QUESTION_TOPIC_MAX_CHARS else None
    return None


def clauses(text: str, limit: int) -> list[tuple[str, str]]:
    """The clauses of a text's first `limit` characters and the mark each ends with ("" for the last without one);
    a split, linear, unlike a search."""
    parts = CLAUSE_END.split(text[:limit])
    return list(zip(parts[::2], [*parts[1::2], ""], strict=True))


@lru_cache(maxsize=1)
def _question_endings() -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFKC", e) for e in _words()["question_endings"])


def is_question(text: str | None) -> bool:
    """Whether the message asks something ("周六你们办公吗", "社区电话是多少")."""
    plain = unicodedata.normalize("NFKC", text or "").strip()
    if plain.endswith(_question_endings()):
        return True
    return contains_any(plain, _words()["question_words"])


CARE_AGE = 75  # from this age a resident is AGED
AGED = "高龄"  # the label of list care (commands.yaml) an age adds as well
# an age told of someone in the family (我奶奶八十了)
_ELDERS = "奶奶|爷爷|姥姥|姥爷|外婆|外公|老人家|老人|老伴儿|老伴|老太太|老爷子|母亲|父亲|我妈|我爸|老妈|老爸"
_SPOKEN_AGE = r"(\d{2,3}|[一二三四五六七八九]十[一二三四五六七八九多几]?)"
_AGE = re.compile(r"(?<![\d.])(\d{2,3})\s*(?:周岁|岁)"  # "82岁"
                  r"|(?:今年|我都|我已经|都|已经|我|" + _ELDERS + r")"  # "我今年八十二了", "我奶奶八十了"
                  + _SPOKEN_AGE + r"(?:周岁|岁|了)"
                  r"|([七八九]十[一二三四五六七八九多几]?)(?:周岁|岁)")  # "九十岁"
_DIGITS = "一二三四五六七八九"


def _age(spoken: str) -> int:
    """An age as written: "82", "八十二", "八十多" (80)."""
    if spoken.isdigit():
        return int(spoken)
    ones = spoken[2:3]
    return (_DIGITS.index(spoken[0]) + 1) * 10 + (_DIGITS.index(ones) + 1 if ones and ones in _DIGITS else 0)


def care_of(text: str | None) -> str | None:
    """What makes the resident someone to look after, as a case stores it ("独居、行动不便、高龄"), or None."""
    cleaned = clean(text)
    found = [label for label in _words()["care"] if contains_any(cleaned, _cleaned("care", label))]
    plain = unicodedata.normalize("NFKC", text or "")
    if AGED not in found and any(_age(next(g for g in m.groups() if g)) >= CARE_AGE for m in _AGE.finditer(plain)):
        found.append(AGED)
    return "、".join(found) or None


def utility_kinds(text: str | None) -> list[str]:
    """The utilities a message names (power, water, gas, heating), in the table's order."""
    cleaned = clean(text)
    return [kind for kind in _words()["utility_kinds"] if contains_any(cleaned, _cleaned("utility_kinds", kind))]


def utility_words(kind: str) -> list[str]:
    """The words that name one utility (power, water, gas, heating)."""
    return list(_words()["utility_kinds"].get(kind, []))
