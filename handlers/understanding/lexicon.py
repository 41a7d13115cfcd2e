"""Load and validate handlers/keywords.yaml into an immutable Lexicon."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from bot.config import ROOT
from bot.constants import PRIORITIES, Priority
from handlers import intents
from handlers.intents import IntentSpec

DEFAULT_PATH = Path(__file__).with_name("keywords.yaml")
TEXT_DIR = ROOT / "templates" / "text"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CUE_LISTS = ("negation", "scope_end", "question", "pending", "hypothetical", "people")
CUE_WEIGHTED = ("resolved", "recurrence")
ROUTED_KEYS = ("department", "time_limit_hours")  # routing.yaml's, refused here with a pointer there
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built in: faster start-up


class LexiconError(ValueError):
    """The keyword table cannot be used; the message names the file and the bad entry."""


@dataclass(frozen=True)
class Settings:
    """Tuning knobs of the scorer (see the comment at the top of keywords.yaml)."""

    min_confidence: float = 0.45
    score_scale: float = 3.0
    also_min_score: float = 2.5
    also_ratio: float = 0.34
    main_margin: float = 0.8
    negation_window: int = 3
    resolved_min: float = 3.0
    other_weight: float = 1.0
    dictionary_min_freq: int = 5
    max_chars: int = 2000  # the classifier reads this much of a message; all of it is stored


@dataclass(frozen=True)
class Term:
    """One keyword: the canonical word, its spellings, and what a match adds."""

    word: str
    intent: str
    weight: float
    surfaces: tuple[str, ...]
    priority: Priority | None = None
    safety: str | None = None


@dataclass(frozen=True)
class Pair:
    """Two word sets that count for an intent when they occur within `window` tokens."""

    intent: str
    first: frozenset[str]
    second: frozenset[str]
    weight: float
    window: int
    priority: Priority | None = None
    safety: str | None = None


@dataclass(frozen=True)
class Lexicon:
    """Everything the classifier reads from the YAML file."""

    settings: Settings
    cue_lists: dict[str, frozenset[str]]
    cue_weights: dict[str, tuple[Term, ...]]
    terms: tuple[Term, ...]
    pairs: tuple[Pair, ...]
    specs: tuple[IntentSpec, ...]  # routing order, fallback last

    def words(self) -> set[str]:
        """Every multi-character word the segmenter must keep whole."""
        out = {s for t in self.terms for s in t.surfaces}
        out |= {s for ts in self.cue_weights.values() for t in ts for s in t.surfaces}
        out |= {w for p in self.pairs for w in p.first | p.second}
        out |= {w for ws in self.cue_lists.values() for w in ws}
        return {w for w in out if len(w) > 1}


def load_lexicon(path: Path | None = None) -> Lexicon:
    """Read and validate the keyword table; LexiconError on any problem."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path.name}: cannot read: {exc}") from exc
    return _parse(data, path.name)


def _fail(where: str, message: str) -> LexiconError:
    return LexiconError(f"{where}: {message}")


def _mapping(value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "must be a mapping")
    unknown = sorted(set(map(str, value)) - allowed)
    if unknown:
        raise _fail(where, f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    return value


def _number(value: Any, where: str, what: str = "weight") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, f"{what} must be a number")
    if value <= 0:
        raise _fail(where, f"{what} must be positive")
    return float(value)


def _words(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(where, "must be a non-empty list of words")
    for i, word in enumerate(value):
        if not isinstance(word, str) or not word.strip():
            raise _fail(f"{where}[{i}]", "must be a non-empty string")
    return tuple(w.strip().lower() for w in value)


def _terms(items: Any, where: str, intent: str, weight: float, **extra: Any) -> tuple[Term, ...]:
    """Items are `词`, `词: 3` or `词: {weight: 3, aliases: [别字]}`."""
    if not isinstance(items, list):
        raise _fail(where, "must be a list")
    out: list[Term] = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        aliases: tuple[str, ...] = ()
        if isinstance(item, str):
            word, w = item, weight
        elif isinstance(item, dict) and len(item) == 1:
            word, value = next(iter(item.items()))
            if isinstance(value, dict):
                value = _mapping(value, at, {"weight", "aliases"})
                aliases = _words(value["aliases"], f"{at}.aliases") if "aliases" in value else ()
                value = value.get("weight", weight)
            w = _number(value, at)
        else:
            raise _fail(at, "must be a word, `word: weight` or `word: {weight: .., aliases: [..]}`")
        word = _words([word], at)[0]
        if word in (t.word for t in out):
            raise _fail(at, f"duplicate term {word!r}")
        out.append(Term(word, intent, w, (word, *aliases), **extra))
    return tuple(out)


def _pairs(items: Any, where: str, intent: str, **extra: Any) -> tuple[Pair, ...]:
    if not isinstance(items, list):
        raise _fail(where, "must be a list")
    out = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        item = _mapping(item, at, {"first", "second", "weight", "window"})
        for key in ("first", "second", "weight"):
            if key not in item:
                raise _fail(at, f"missing {key!r}")
        window = item.get("window", 3)
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise _fail(f"{at}.window", "must be a positive integer")
        out.append(Pair(intent, frozenset(_words(item["first"], f"{at}.first")),
                        frozenset(_words(item["second"], f"{at}.second")),
                        _number(item["weight"], at), window, **extra))
    return tuple(out)


def _spec(name: str, raw: Any, where: str) -> IntentSpec:
    """The module's spec with YAML overrides, or a spec built from YAML alone (priority normal by default)."""
    base = intents.get_spec(name) if name in intents.NAMES else IntentSpec(name=name)
    if raw is None:
        return base
    for key in ROUTED_KEYS:
        if isinstance(raw, dict) and key in raw:
            raise _fail(f"{where}.{key}", "department and time limit are decided by bot/domain/routing.yaml "
                                         f"alone; remove {key!r} here and add a rule there")
    raw = _mapping(raw, where, {"priority", "safety", "questions"})
    changes: dict[str, Any] = {}
    if "priority" in raw:
        if raw["priority"] not in PRIORITIES:
            raise _fail(f"{where}.priority", f"must be one of {', '.join(PRIORITIES)}")
        changes["priority"] = Priority(raw["priority"])
    if "safety" in raw:
        _check_safety(raw["safety"], f"{where}.safety")
        changes["safety"] = raw["safety"]
    if "questions" in raw:
        changes["questions"] = _words(raw["questions"], f"{where}.questions") if raw["questions"] else ()
    return replace(base, **changes)


def _check_safety(value: Any, where: str) -> None:
    if value is not None and not (TEXT_DIR / f"{value}.txt").is_file():
        raise _fail(where, f"no template templates/text/{value}.txt")


def _parse(data: Any, file: str) -> Lexicon:
    top = _mapping(data, file, {"version", "settings", "cues", "intents"})
    names = {f.name: f.type for f in fields(Settings)}
    raw_settings = _mapping(top.get("settings") or {}, f"{file}: settings", set(names))
    values: dict[str, Any] = {k: (int if names[k] == "int" else float)(_number(v, f"{file}: settings", k))
                              for k, v in raw_settings.items()}
    settings = Settings(**values)
    for key in ("min_confidence", "also_ratio", "main_margin"):
        if getattr(settings, key) > 1:
            raise _fail(f"{file}: settings", f"{key} must be between 0 and 1")
    cues = _mapping(top.get("cues") or {}, f"{file}: cues", set(CUE_LISTS + CUE_WEIGHTED))
    cue_lists = {k: frozenset(_words(cues[k], f"{file}: cues.{k}")) if k in cues else frozenset()
                 for k in CUE_LISTS}
    cue_weights = {k: _terms(cues.get(k, []), f"{file}: cues.{k}", k, 1.0) for k in CUE_WEIGHTED}
    table = top.get("intents")
    if not isinstance(table, dict) or not table:
        raise _fail(f"{file}: intents", "must be a non-empty mapping of intent name to entry")
    terms: list[Term] = []
    pairs: list[Pair] = []
    specs: dict[str, IntentSpec] = {}
    for name, entry in table.items():
        where = f"{file}: intents.{name}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise _fail(where, "intent names are lowercase ascii letters, digits and _")
        if name in CUE_WEIGHTED:
            raise _fail(where, f"{name!r} is the name of a cue list, not usable for an intent")
        entry = _mapping(entry or {}, where, {"spec", "terms", "pairs", "escalate"})
        specs[name] = _spec(name, entry.get("spec"), f"{where}.spec")
        terms += _terms(entry.get("terms", []), f"{where}.terms", name, 1.0)
        pairs += _pairs(entry.get("pairs", []), f"{where}.pairs", name)
        for i, esc in enumerate(entry.get("escalate") or []):
            at = f"{where}.escalate[{i}]"
            esc = _mapping(esc, at, {"priority", "safety", "weight", "terms", "pairs"})
            if esc.get("priority") not in PRIORITIES:
                raise _fail(f"{at}.priority", f"must be one of {', '.join(PRIORITIES)}")
            _check_safety(esc.get("safety"), f"{at}.safety")
            extra = {"priority": Priority(esc["priority"]), "safety": esc.get("safety")}
            terms += _terms(esc.get("terms", []), f"{at}.terms", name, _number(esc.get("weight", 4), at), **extra)
            pairs += _pairs(esc.get("pairs", []), f"{at}.pairs", name, **extra)
    builtin = [s.name for s in intents.INTENTS if s.name != intents.FALLBACK]
    order = [n for n in builtin if n in specs] + [n for n in specs if n not in builtin and n != intents.FALLBACK]
    fallback = specs.get(intents.FALLBACK, intents.get_spec(intents.FALLBACK))
    return Lexicon(settings, cue_lists, cue_weights, tuple(terms), tuple(pairs),
                   (*(specs[n] for n in order), fallback))
