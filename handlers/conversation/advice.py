"""Safety advice for one report: only the part that applies (heating advice for heating, not every utility)."""
from __future__ import annotations

from bot.messaging.texts import lines, render_text
from handlers.understanding.words import utility_kinds, utility_words

UTILITY = "safety/utility"
BULLET = "·"


def advice(name: str | None, text: str | None) -> str:
    """The rendered advice template `name` for a report saying `text` ("" when there is none)."""
    if not name:
        return ""
    full = render_text(name)
    kinds = utility_kinds(text) if name == UTILITY else []
    if len(kinds) != 1:  # one utility named: its part alone; several or none: all of them
        return full
    return "\n".join(line for line in full.splitlines() if not line.startswith(BULLET) or _about(line, kinds[0]))


def _about(bullet: str, kind: str) -> bool:
    """Whether a bullet of safety/utility.txt ("· 停电：…") is the one for this utility (its label names it)."""
    label = bullet.partition("：")[0]
    return any(word in label for word in utility_words(kind))


def next_step(name: str | None) -> str:
    """The rendered next step of an emergency's advice ("safety/fire" → safety/fire_next), "" when it has none."""
    return "\n".join(lines(f"{name}_next")) if name else ""


ANSWERED_BY = "|"  # a question line of templates/text/questions/: "question | words that show it is answered"


def questions_for(questions: tuple[str, ...], text: str | None) -> tuple[str, ...]:
    """The optional questions without those the report already answers: "停水、停电、停气还是暖气不热？"
    is not asked after "暖气不热" (a question naming several utilities, when the report names one), and a
    question whose answer words (after "|" in its line) the report holds is not asked ("厨房顶上渗水" answers
    where the water comes in)."""
    said = text or ""
    one_utility = len(utility_kinds(said)) == 1
    kept = []
    for line in questions:
        question, _, answers = line.partition(ANSWERED_BY)
        if one_utility and len(utility_kinds(question)) >= 2 or any(w in said for w in answers.split()):
            continue
        kept.append(question.strip())
    return tuple(kept)
