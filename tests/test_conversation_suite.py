"""The conversation suite (tests/data/conversations/*.yaml): every conversation played through the signed webhook
against real Redis and SQLite, each turn checked as the resident would see it (bench/conversation_eval.py plays
the same files, plus the known failures, and prints the share handled right)."""
from __future__ import annotations

import pytest

from bench.conversation_eval import KNOWN_FAILURES, SUITE, load, play, send_with

CONVERSATIONS = load(SUITE)


def test_the_suite_is_large_and_the_known_failures_are_apart():
    assert len(CONVERSATIONS) >= 150
    known = {c.id for c in load(KNOWN_FAILURES)}
    assert not known & {c.id for c in CONVERSATIONS}


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c.id for c in CONVERSATIONS])
def test_conversation(conversation, app, wechat, street):
    result = play(conversation, send_with(wechat), street, app)
    transcript = "\n".join(f"> {said}\n< {reply}" for said, reply in result.transcript)
    assert result.ok, "\n".join(result.failures) + "\n" + transcript
