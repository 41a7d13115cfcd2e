"""A compound's names (its name and aliases from the directory) and how names are compared."""
from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Compound

CN_DIGITS = dict(zip("零〇一二两三四五六七八九", "001223456789", strict=True))


def fold(text: str) -> str:
    """Half-width, lower case, no spaces, single Chinese digits as digits (for comparing names)."""
    text = "".join(unicodedata.normalize("NFKC", text).lower().split())
    return "".join(CN_DIGITS.get(ch, ch) for ch in text)


def names(compound: Compound) -> list[str]:
    """The compound's name, then its aliases."""
    aliases = [a.strip() for a in (compound.aliases or "").split(",") if a.strip()]
    return [compound.name, *aliases]


def find_compound(session: Session, name: str) -> Compound | None:
    """The compound with exactly this name or alias (after folding)."""
    wanted = fold(name)
    for compound in session.scalars(select(Compound)).all():
        if any(fold(n) == wanted for n in names(compound)):
            return compound
    return None
