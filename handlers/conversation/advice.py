"""Safety advice for one report: only the part that applies (heating advice for heating, not every utility)."""
from __future__ import annotations

from bot.messaging.texts import render_text
from handlers.understanding.words import utility_kinds

UTILITY = "safety/utility"


def advice(name: str | None, text: str | None) -> str:
    """The rendered advice template `name` for a report saying `text` ("" when there is none)."""
    if not name:
        return ""
    kinds = utility_kinds(text) if name == UTILITY else []
    if len(kinds) == 1:  # one utility named: its part alone; several or none: all of them
        return render_text("safety/utility_one", part=f"safety/utility/{kinds[0]}.txt")
    return render_text(name)
