"""Questions residents ask, answered without a case: templates/text/faq.yaml, edited by staff, checked at start-up."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from bot.messaging.texts import TEXT_DIR

FAQ_PATH = TEXT_DIR / "faq.yaml"


class FaqError(ValueError):
    """The FAQ file cannot be used (said in Chinese, for the staff who edit it)."""


@dataclass(frozen=True)
class Entry:
    """One answer and the words that pick it."""

    answer: str  # a text under templates/text/, e.g. "faq/hours"
    words: tuple[str, ...]
    intent: str | None = None  # a rule question about this problem ("楼道里的自行车能放吗？"); None: no problem named


@dataclass(frozen=True)
class Faq:
    """The ordered entries: the first whose word occurs in a question answers it."""

    entries: tuple[Entry, ...] = ()

    @cached_property
    def rule_intents(self) -> frozenset[str]:
        """The problems some entry answers a rule question about."""
        return frozenset(e.intent for e in self.entries if e.intent)

    def answer_for(self, text: str, intent: str | None = None) -> str | None:
        """The answer text's name for a question, or None when no entry fits; `intent`: the problem the question
        names, for the entries that answer a rule about it (none: the entries about no problem)."""
        return next((e.answer for e in self.entries
                     if e.intent == intent and any(w in text for w in e.words)), None)


def _entry(row: object, number: int) -> Entry:
    if not isinstance(row, dict) or not row.get("answer") or not row.get("words"):
        raise FaqError(f"faq.yaml 第 {number} 条需要 answer 和 words")
    answer, words = str(row["answer"]), tuple(str(w) for w in row["words"] if str(w).strip())
    if not (TEXT_DIR / f"{answer}.txt").is_file():
        raise FaqError(f"faq.yaml 第 {number} 条：找不到回答 templates/text/{answer}.txt")
    if not words:
        raise FaqError(f"faq.yaml 第 {number} 条没有关键词")
    return Entry(answer, words, str(row["intent"]) if row.get("intent") else None)


def load_faq(path: Path = FAQ_PATH) -> Faq:
    """Read and check the FAQ file (every entry has words and an answer text that exists)."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(rows, list):
        raise FaqError("faq.yaml 应是一个列表")
    return Faq(tuple(_entry(row, n) for n, row in enumerate(rows, 1)))
