"""Routing rules as data: intent × building situation → department, time limit, who else is told."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.storage.models import Building
from handlers.intents import DEPARTMENTS, PRIORITY_TIME_LIMITS, get_spec

RULES_PATH = Path(__file__).with_name("routing.yaml")
SITUATIONS = ("managed", "unmanaged", "unknown")


@dataclass(frozen=True)
class Rule:
    """One row of routing.yaml."""

    intent: str
    situation: str
    department: str
    hours: float | None = None
    inform: tuple[str, ...] = ()
    inform_if_neighbour: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """Where a case goes and how long the department has."""

    department: str
    time_limit: timedelta
    inform: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    """The loaded rule table and the words that name a neighbour as a leak's source."""

    rules: tuple[Rule, ...]
    neighbour_words: tuple[str, ...]


def _rule(row: dict[str, Any], line: int) -> Rule:
    rule = Rule(intent=row["intent"], situation=row.get("situation", "any"), department=row["department"],
                hours=row.get("hours"), inform=tuple(row.get("inform", ())),
                inform_if_neighbour=tuple(row.get("inform_if_neighbour", ())))
    for dept in (rule.department, *rule.inform, *rule.inform_if_neighbour):
        if dept not in DEPARTMENTS:
            raise ValueError(f"routing rule {line}: unknown department {dept!r}")
    if rule.situation not in (*SITUATIONS, "any"):
        raise ValueError(f"routing rule {line}: unknown situation {rule.situation!r}")
    get_spec(rule.intent)  # KeyError for an intent with no module
    return rule


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> Rules:
    """Read and check the rule table (cached)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = tuple(_rule(row, i + 1) for i, row in enumerate(data["rules"]))
    return Rules(rules, tuple(data.get("neighbour_words", ())))


def situation(building: Building | None) -> str:
    """managed, unmanaged (失管) or unknown."""
    if building is None:
        return "unknown"
    return "managed" if building.property_manager else "unmanaged"


def route(intent: str, priority: str, building: Building | None, text: str = "",
          rules: Rules | None = None) -> Decision:
    """The department, time limit and informed departments for a new case."""
    rules = rules or load_rules()
    where = situation(building)
    spec = get_spec(intent)
    for rule in rules.rules:
        if rule.intent == intent and rule.situation in (where, "any"):
            break
    else:
        return Decision(spec.department, _limit(spec.time_limit, priority), ())
    limit = timedelta(hours=rule.hours) if rule.hours else spec.time_limit
    inform = list(rule.inform)
    if rule.inform_if_neighbour and any(word in text for word in rules.neighbour_words):
        inform += [d for d in rule.inform_if_neighbour if d not in inform]
    return Decision(rule.department, _limit(limit, priority), tuple(d for d in inform if d != rule.department))


def _limit(limit: timedelta, priority: str) -> timedelta:
    """A raised priority shortens the time limit (never lengthens it)."""
    return min(limit, PRIORITY_TIME_LIMITS.get(priority, limit))
