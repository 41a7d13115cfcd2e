"""Reply texts live in templates/text/: every routed intent has its follow-up questions there."""
from __future__ import annotations

import pytest

from bot.messaging.texts import label, lines
from handlers.conversation.advice import ANSWERED_BY


@pytest.mark.parametrize("intent", ["leak", "pest", "clutter", "construction", "utility"])
def test_routed_intents_have_questions(intent: str) -> None:
    questions = [line.partition(ANSWERED_BY)[0].strip() for line in lines(f"questions/{intent}")]  # "question | words"
    assert questions and all(q.endswith("？") or q.endswith("。") for q in questions)


def test_missing_template_has_no_lines() -> None:
    assert lines("questions/no-such-intent") == ()


def test_labels_translate_codes_and_pass_unknown_ones_through() -> None:
    assert label("department", "enforcement") == "城管执法队"
    assert label("status", "weird") == "weird"
