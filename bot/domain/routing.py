"""Routing rules as data (routing.yaml): intent × building situation → department, time limit, who else is told.

routing.yaml is the one home of a case's department and time limit: a new case gets `route()`'s
decision, and `flask classify --explain` shows the same decision.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.constants import CASE_DEPARTMENTS, PRIORITIES
from bot.errors import RoutingError
from bot.storage.models import Building

RULES_PATH = Path(__file__).with_name("routing.yaml")
# project: during a phase at its place; refused: a managed building whose property company refused (物业不管)
SITUATIONS = ("managed", "unmanaged", "unknown", "project", "refused")
ANY = "any"
RULE_KEYS = {"intent", "situation", "department", "hours", "inform", "inform_if_neighbour"}


@dataclass(frozen=True)
class Rule:
    """One row of routing.yaml."""

    intent: str
    situation: str
    department: str
    hours: float
    inform: tuple[str, ...] = ()
    inform_if_neighbour: tuple[str, ...] = ()

    def matches(self, intent: str, where: str) -> bool:
        """Whether this rule applies to the intent in this situation."""
        return self.intent in (intent, ANY) and self.situation in (where, ANY)


@dataclass(frozen=True)
class Decision:
    """Where a case goes and how long the department has."""

    department: str
    time_limit: timedelta
    inform: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    """The loaded rule table, the words that name a neighbour as a leak's source, the priorities' limits."""

    rules: tuple[Rule, ...]
    neighbour_words: tuple[str, ...]
    priority_limits: dict[str, timedelta]
    refused_words: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # (the property company, refusing)


def _hours(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise RoutingError(f"{where}: hours must be a positive number")
    return float(value)


def _rule(row: Any, line: int) -> Rule:
    where = f"routing.yaml: rule {line}"
    if not isinstance(row, dict):
        raise RoutingError(f"{where}: must be a mapping")
    unknown = sorted(set(row) - RULE_KEYS)
    if unknown:
        raise RoutingError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(RULE_KEYS))})")
    for key in ("intent", "department", "hours"):
        if key not in row:
            raise RoutingError(f"{where}: missing {key!r}")
    rule = Rule(intent=str(row["intent"]), situation=row.get("situation", ANY), department=row["department"],
                hours=_hours(row["hours"], where), inform=tuple(row.get("inform", ())),
                inform_if_neighbour=tuple(row.get("inform_if_neighbour", ())))
    for dept in (rule.department, *rule.inform, *rule.inform_if_neighbour):
        if dept not in CASE_DEPARTMENTS:
            raise RoutingError(f"{where}: unknown department {dept!r}; use one of {', '.join(CASE_DEPARTMENTS)}")
    if rule.situation not in (*SITUATIONS, ANY):
        raise RoutingError(f"{where}: unknown situation {rule.situation!r}; use one of {', '.join(SITUATIONS)}, any")
    return rule


def _priority_limits(raw: Any) -> dict[str, timedelta]:
    if not isinstance(raw, dict):
        raise RoutingError("routing.yaml: priority_hours must be a mapping of priority to hours")
    for name in raw:
        if name not in PRIORITIES:
            raise RoutingError(f"routing.yaml: priority_hours: unknown priority {name!r}")
    return {name: timedelta(hours=_hours(value, f"routing.yaml: priority_hours.{name}")) for name, value in raw.items()}


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> Rules:
    """Read and check the rule table (cached); RoutingError names the bad entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RoutingError(f"routing.yaml: cannot read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RoutingError("routing.yaml: needs a list of rules")
    rules = tuple(_rule(row, i + 1) for i, row in enumerate(data["rules"]))
    return Rules(rules, tuple(data.get("neighbour_words", ())), _priority_limits(data.get("priority_hours") or {}),
                 _refused_words(data.get("property_refused_words") or {}))


def _refused_words(raw: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if raw == {}:
        return (), ()  # no such words: nothing is read as refused
    if not isinstance(raw, dict) or not raw.get("property") or not raw.get("refused"):
        raise RoutingError("routing.yaml: property_refused_words needs lists `property` and `refused`")
    return tuple(map(str, raw["property"])), tuple(map(str, raw["refused"]))


def property_refused(text: str | None, rules: Rules | None = None) -> bool:
    """Whether the text says the property company refused ("物业说不归他们管", "找过物业了，物业不管")."""
    company, refusing = (rules or load_rules()).refused_words
    plain = text or ""
    return any(w in plain for w in company) and any(w in plain for w in refusing)


def check_intents(rules: Rules, intents: Iterable[str]) -> None:
    """Start-up check against the loaded intents: every rule names one, every intent is routed everywhere."""
    known = set(intents)
    for line, rule in enumerate(rules.rules, start=1):
        if rule.intent != ANY and rule.intent not in known:
            raise RoutingError(f"routing.yaml: rule {line}: unknown intent {rule.intent!r} "
                               "(not in handlers/intents nor keywords.yaml)")
    for intent in sorted(known):
        for where in SITUATIONS:
            if not any(rule.matches(intent, where) for rule in rules.rules):
                raise RoutingError(f"routing.yaml: no rule for intent {intent!r} in situation {where!r}")


def situation(building: Building | None) -> str:
    """managed, unmanaged (失管) or unknown."""
    if building is None:
        return "unknown"
    return "managed" if building.property_manager else "unmanaged"


def decide(intent: str, priority: str, where: str, text: str = "", rules: Rules | None = None) -> Decision:
    """The department, time limit and informed departments for an intent in a situation."""
    rules = rules or load_rules()
    rule = next((r for r in rules.rules if r.matches(intent, where)), None)
    if rule is None:  # check_intents at start-up rules this out for the loaded intents
        raise RoutingError(f"routing.yaml: no rule for intent {intent!r} in situation {where!r}")
    limit = timedelta(hours=rule.hours)
    limit = min(limit, rules.priority_limits.get(priority, limit))  # a raised priority never lengthens it
    inform = list(rule.inform)
    if rule.inform_if_neighbour and any(word in text for word in rules.neighbour_words):
        inform += [d for d in rule.inform_if_neighbour if d not in inform]
    return Decision(rule.department, limit, tuple(d for d in inform if d != rule.department))


def route(intent: str, priority: str, building: Building | None, text: str = "",
          rules: Rules | None = None) -> Decision:
    """The decision for a new case at this building (a managed one whose property company refused: `refused`)."""
    where = situation(building)
    if where == "managed" and property_refused(text, rules):
        where = "refused"
    return decide(intent, priority, where, text, rules)
