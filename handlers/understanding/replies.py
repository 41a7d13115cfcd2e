"""The words residents use when they answer in a context Mulin set up (handlers/understanding/replies.yaml).

Satisfaction answers in own words, chasing a case (催办), asking for a person (人工), and replies to a
cleanup notice (物业不管 is a routing rule's words: bot/domain/routing.yaml).
Pure functions of the text; the conversation decides.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.constants import Satisfaction
from handlers.understanding.words import clean, contains_any, is_question

REPLIES_PATH = Path(__file__).with_name("replies.yaml")
LEVELS = ("not_solved", "unsatisfied", "basic", "satisfied")


class RepliesError(ValueError):
    """replies.yaml cannot be used (start-up stops with this line)."""


LISTS = (*(("satisfaction", k) for k in (*LEVELS, "negations", "turn_words")),
         *((k,) for k in ("chase", "earlier_report", "cancel", "handoff", "notice_ack", "notice_question",
                          "notice_complaint", "cannot_stop")))
NUMBERS = ("satisfaction_max_chars", "chase_max_chars", "cancel_max_chars", "handoff_max_chars",
           "notice_reply_max_chars", "notice_reply_hours_after_cleanup")


@lru_cache(maxsize=4)
def words(path: Path = REPLIES_PATH) -> dict[str, Any]:
    """The loaded table (cached), checked: every list is there and non-empty, every limit a positive number."""
    try:
        table: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RepliesError(f"replies.yaml: cannot read: {exc}") from exc
    for keys in LISTS:
        node: Any = table
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, list) or not node:
            raise RepliesError(f"replies.yaml: {'.'.join(keys)} needs a list of at least one word")
        node[:] = [clean(str(w)) for w in node]  # matched as cleaned, once
    for name in NUMBERS:
        value = table.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise RepliesError(f"replies.yaml: {name} must be a positive number")
    return table




def _has(cleaned: str, listed: list[Any]) -> bool:
    return contains_any(cleaned, listed)


def _negated(cleaned: str, praise: list[Any], negations: list[Any]) -> bool:
    """A praise word right after a negation (不太满意, 不是很好)."""
    for word in praise:
        start = cleaned.find(word)
        while start >= 0:
            if any(cleaned[:start].endswith(n) for n in negations):
                return True
            start = cleaned.find(word, start + 1)
    return False


def satisfaction_of(text: str | None) -> tuple[str, bool | None] | None:
    """(satisfaction, solved) a reply in own words gives, or None when it gives none."""
    cleaned, table = clean(text), words()["satisfaction"]
    if not cleaned:
        return None
    if _has(cleaned, table["not_solved"]):  # at any length: a long account of what is still wrong
        return Satisfaction.UNSATISFIED, False
    if _has(cleaned, table["unsatisfied"]):
        return Satisfaction.UNSATISFIED, None
    if len(cleaned) > int(words()["satisfaction_max_chars"]):
        return None  # praise inside a long message is no rating
    if is_question(text) and _has(cleaned, words()["chase"]):
        return None  # "漏水修好了吗" asks how it went: no rating
    if _negated(cleaned, table["satisfied"] + table["basic"], table["negations"]):
        return Satisfaction.UNSATISFIED, None
    if _has(cleaned, table["basic"]):
        return Satisfaction.BASIC, True
    if _has(cleaned, table["satisfied"]):
        return Satisfaction.SATISFIED, True
    return None


def says_not_solved(text: str | None) -> bool:
    """Whether the words say a problem is not over: never fixed, or back again ("还是漏", "又堆回来了")."""
    return _has(clean(text), words()["satisfaction"]["not_solved"])


def says_cannot_stop(text: str | None) -> bool:
    """Whether, after an emergency's advice, the words say it could not be done ("总阀关不上", "找不到在哪")."""
    return _has(clean(text), words()["cannot_stop"])


def split_turn(text: str | None) -> tuple[str, str] | None:
    """(the rating, what it goes on to) of a reply with 不过/但是: "修好了挺满意，不过厨房最近有蟑螂" →
    ("修好了挺满意", "厨房最近有蟑螂"); None without a turn word or with nothing on either side."""
    plain = unicodedata.normalize("NFKC", text or "")
    found = [(plain.find(w), w) for w in words()["satisfaction"]["turn_words"] if w in plain]
    if not found:
        return None
    at, word = min(found)
    head, rest = plain[:at].strip(" ,，。!！;；"), plain[at + len(word):].strip(" ,，。!！;；")
    return (head, rest) if head and rest else None


def is_chase(text: str | None) -> bool:
    """Whether the message chases a case ("说好的师傅呢", "怎么还没人联系我")."""
    cleaned = clean(text)
    return bool(cleaned) and len(cleaned) <= int(words()["chase_max_chars"]) and _has(cleaned, words()["chase"])


def refers_to_earlier(text: str | None) -> bool:
    """Whether the message speaks of an earlier report ("上次报的漏水", "我反映的那个事")."""
    return _has(clean(text), words()["earlier_report"])


def is_cancel(text: str | None) -> bool:
    """Whether a short message calls the case off in own words ("不弄了，没事了", "算了不用来了")."""
    cleaned = clean(text)
    return bool(cleaned) and len(cleaned) <= int(words()["cancel_max_chars"]) and _has(cleaned, words()["cancel"])


def is_handoff(text: str | None) -> bool:
    """Whether a short message asks for a person ("找真人", "别让机器回了")."""
    cleaned = clean(text)
    return bool(cleaned) and len(cleaned) <= int(words()["handoff_max_chars"]) and _has(cleaned, words()["handoff"])


def notice_reply_kind(text: str | None) -> str | None:
    """"question" or "ack" for a short reply to a notice that reads as one; None (a complaint, or neither)."""
    cleaned = clean(text)
    if not cleaned or len(cleaned) > int(words()["notice_reply_max_chars"]):
        return None
    if _has(cleaned, words()["notice_complaint"]):
        return None
    if _has(cleaned, words()["notice_question"]) or is_question(text):
        return "question"
    if _has(cleaned, words()["notice_ack"]):
        return "ack"
    return None


def notice_reply_hours() -> float:
    """How long after the cleanup a reply still belongs to the notice."""
    return float(words()["notice_reply_hours_after_cleanup"])
