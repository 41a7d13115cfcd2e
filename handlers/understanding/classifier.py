"""Intent classification of residents' messages: jieba tokens scored against the keyword table."""
from __future__ import annotations

import math
import os
import tempfile
import threading
import unicodedata
import warnings
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

with warnings.catch_warnings():
    # jieba 0.42.1 has invalid escapes in regex literals: Python 3.11 warns when compiling them.
    warnings.filterwarnings("ignore", message="invalid escape sequence", category=SyntaxWarning)
    import jieba

from bot.constants import Priority
from handlers.intents import FALLBACK, IntentSpec, raise_priority
from handlers.understanding.lexicon import Lexicon, LexiconError, Term, load_lexicon

__all__ = ["Classification", "Classifier", "LexiconError", "classify", 
           "load_classifier"]
ASPECT_ENDINGS = ("了", "着", "过", "起来")
CACHED_TOKEN_CHARS = 32  # longer tokens are looked into without the cache


@dataclass(frozen=True)
class Classification:
    """The answer for one message."""

    intent: str
    confidence: float
    terms: tuple[str, ...]
    also: tuple[str, ...]
    priority: str
    scores: Mapping[str, float]
    safety: str | None = None  # safety-advice template, e.g. "safety/gas"
    resolved: bool = False  # the message says a problem is over: a case update, not a complaint


@dataclass(frozen=True)
class _Hit:
    """One matched term or cue: token span and entry."""

    start: int
    end: int
    term: Term
    negated: bool = False  # a negation inside the token itself: 不漏水
    parts: tuple[int, ...] = ()  # the two token positions of a pair

    @property
    def positions(self) -> set[int]:
        """The tokens this hit rests on."""
        return set(self.parts or range(self.start, self.end))


def _normalize(text: str) -> str:
    """Full-width to half-width, lower case, whitespace collapsed; a message typed with a space after each
    character ("楼 道 里 有 老 鼠") closed up."""
    runs = unicodedata.normalize("NFKC", text).lower().split()
    if len(runs) >= SPACED_MIN_RUNS and sum(len(r) == 1 for r in runs) >= SPACED_SHARE * len(runs):
        return "".join(runs)
    return " ".join(runs)


SPACED_MIN_RUNS = 4  # "楼 道 里 有 老 鼠": this many space-separated runs, most of them one character
SPACED_SHARE = 0.6


def _first_within(positions: list[int], at: int, window: int) -> int | None:
    """The first of the ascending `positions` within `window` of `at`, other than `at` itself."""
    # A bisection, not a scan of all positions: a long message repeating a pair's words made it quadratic.
    k = bisect_left(positions, at - window)
    while k < len(positions) and positions[k] <= at + window:
        if positions[k] != at:
            return positions[k]
        k += 1
    return None


def _is_boundary(token: str) -> bool:
    """Punctuation, spaces and emoji end a clause (and a negation's reach)."""
    return not token[0].isalnum()


class Classifier:
    """Scores a message against the lexicon; built once, read-only afterwards (safe across threads)."""

    def __init__(self, lexicon: Lexicon, tokenizer: jieba.Tokenizer) -> None:
        self.lexicon = lexicon
        self._tok = tokenizer
        self._set = lexicon.settings
        self._specs: dict[str, IntentSpec] = {s.name: s for s in lexicon.specs}
        table: dict[str, list[Term]] = {}
        for term in (*lexicon.terms, *(t for ts in lexicon.cue_weights.values() for t in ts)):
            for surface in term.surfaces:
                table.setdefault(surface, []).append(term)
        self._table = {k: tuple(v) for k, v in table.items()}
        # No entry is longer than this: _inside never needs to look at a longer stretch of a token.
        self._longest = max(map(len, self._table), default=0)
        self._prefixes = {s[:k] for s in self._table for k in range(1, len(s))}
        self._inside = lru_cache(maxsize=1 << 15)(self._inside_uncached)  # lru_cache is thread-safe
        self._cue = lexicon.cue_lists
        self._pair_words: dict[str, list[tuple[int, int]]] = {}
        for index, pair in enumerate(lexicon.pairs):
            for side, words in enumerate((pair.first, pair.second)):
                for word in words:  # 砌 also matches 砌了, 堆 also 堆着
                    for form in (word, *(word + ending for ending in ASPECT_ENDINGS)):
                        self._pair_words.setdefault(form, []).append((index, side))

    def spec(self, name: str) -> IntentSpec:
        """The effective spec (module facts with YAML overrides) of an intent; KeyError if unknown."""
        return self._specs[name]

    @property
    def intents(self) -> tuple[str, ...]:
        """All intent names in routing order, fallback last."""
        return tuple(self._specs)

    def tokens(self, text: str) -> list[str]:
        """The segmentation the classifier works on (for --explain): of the first max_chars characters."""
        # A report says what is wrong at the start; the cut bounds each message's work (60,000 characters
        # of the same story added nothing but time), whatever jieba or a future rule may cost per character.
        tokens: list[str] = self._tok.lcut(_normalize(text[:self._set.max_chars]), HMM=False)
        return tokens

    def _match(self, tokens: list[str]) -> list[_Hit]:
        """Longest n-gram of tokens found in the table, left to right, non-overlapping."""
        table, prefixes = self._table, self._prefixes
        hits: list[_Hit] = []
        i, n = 0, len(tokens)
        while i < n:
            token, found = tokens[i], None
            if token in table or token in prefixes:
                text, j = "", i
                while j < n:
                    text += tokens[j]
                    j += 1
                    if text in table:
                        found = (j, table[text])
                    if text not in prefixes:
                        break
            if found:
                hits.extend(_Hit(i, found[0], term) for term in found[1])
                i = found[0]
                continue
            if len(token) > 2:
                # a long run of letters or digits is unique to its message: cached, it would only push out words
                inside = self._inside if len(token) <= CACHED_TOKEN_CHARS else self._inside_uncached
                hits.extend(_Hit(i, i + 1, term, negated) for term, negated in inside(token))
            i += 1
        return hits

    def _inside_uncached(self, token: str) -> tuple[tuple[Term, bool], ...]:
        """The longest table entry inside a long token jieba kept whole (盖房子 → 盖房), and whether
        the token begins with a negation (不漏水)."""
        # From the longest entry down, not from the token's length: jieba keeps a run of Latin letters
        # or digits as one token, and trying every length of it was quadratic (10,000 "a" took 40 s).
        for size in range(min(len(token) - 1, self._longest), 1, -1):
            for start in range(len(token) - size + 1):
                terms = self._table.get(token[start:start + size])
                if terms:
                    negated = token[:start] in self._cue["negation"]
                    return tuple((term, negated) for term in terms)
        return ()

    def _negated(self, tokens: list[str], start: int) -> bool:
        """A negation word within the window before `start`, in the same clause."""
        for k in range(start - 1, max(start - 1 - self._set.negation_window, -1), -1):
            token = tokens[k]
            if _is_boundary(token) or token in self._cue["scope_end"]:
                return False
            if token in self._cue["negation"]:
                return True
        return False

    def _questioned(self, tokens: list[str], end: int) -> bool:
        """A question word right after `end` ("修好了吗"), in the same clause."""
        for token in tokens[end:end + 2]:
            if token in self._cue["question"]:
                return True
            if _is_boundary(token):
                return False
        return False

    def _resolved(self, tokens: list[str], hit: _Hit) -> float:
        """+weight for "已经修好了", -weight for "还没修好", 0 for "修好了吗" or "尽快修好"."""
        if self._negated(tokens, hit.start):
            return -hit.term.weight
        window = tokens[max(hit.start - self._set.negation_window, 0):hit.start]
        if self._questioned(tokens, hit.end) or self._cue["pending"].intersection(window):
            return 0.0
        if self._about_people(tokens, hit.start):
            return 0.0
        return hit.term.weight

    def _about_people(self, tokens: list[str], start: int) -> bool:
        """A person word earlier in the resolved cue's clause: "孩子们都搬走了" is about people, not the problem."""
        for k in range(start - 1, max(start - 1 - self._set.negation_window, -1), -1):
            if _is_boundary(tokens[k]):
                return False
            if tokens[k] in self._cue["people"]:
                return True
        return False

    def _feared(self, tokens: list[str], hit: _Hit, others: bool) -> bool:
        """An emergency word that is a fear, not the event: a hypothetical cue before it in its clause ("万一着火了"),
        or, when the message names another problem, right after it ("着火了怎么办")."""
        cues = self._cue["hypothetical"]
        for k in range(hit.start - 1, max(hit.start - 1 - self._set.negation_window, -1), -1):
            if _is_boundary(tokens[k]):
                break
            if tokens[k] in cues:
                return True
        return others and any(token in cues for token in tokens[hit.end:hit.end + 2])

    def _without_feared(self, tokens: list[str], found: list[_Hit]) -> list[_Hit]:
        """The hits without feared emergency words (critical ones of an intent whose every word is critical)."""
        critical_only = {h.term.intent for h in found} - {
            h.term.intent for h in found if h.term.priority != Priority.CRITICAL}
        if not critical_only or not self._cue["hypothetical"]:
            return found
        others = any(h.term.intent not in critical_only and h.term.intent != FALLBACK for h in found)
        return [h for h in found if h.term.intent not in critical_only or not self._feared(tokens, h, others)]

    def _pair_hits(self, tokens: list[str], covered: dict[int, str]) -> list[_Hit]:
        """Pairs whose two words occur within their window (either order), not negated, and not inside
        another intent's phrase (堵 in 一堵墙 is no blocking)."""
        seen: dict[int, list[list[int]]] = {}
        pairs = self.lexicon.pairs
        for pos, token in enumerate(tokens):
            for index, side in self._pair_words.get(token, ()):
                if covered.get(pos, pairs[index].intent) == pairs[index].intent:
                    seen.setdefault(index, [[], []])[side].append(pos)
        hits = []
        for index, (firsts, seconds) in seen.items():
            pair = self.lexicon.pairs[index]
            for a in firsts:
                b = _first_within(seconds, a, pair.window)
                if b is not None and not self._negated(tokens, min(a, b)):
                    word = f"{tokens[a]}+{tokens[b]}"
                    term = Term(word, pair.intent, pair.weight, (word,), pair.priority, pair.safety)
                    hits.append(_Hit(min(a, b), max(a, b) + 1, term, parts=(a, b)))
                    break
        return hits

    def classify(self, text: str) -> Classification:
        """The intent, confidence, matched terms, secondary intents and priority of one message."""
        tokens = self.tokens(text) if text else []
        scores = dict.fromkeys(self._specs, 0.0)
        found: list[_Hit] = []
        resolved = 0.0
        for hit in self._match(tokens):
            kind = hit.term.intent
            if kind == "resolved":
                resolved += -hit.term.weight if hit.negated else self._resolved(tokens, hit)
            elif kind == "recurrence":
                resolved -= hit.term.weight
            elif not hit.negated and not self._negated(tokens, hit.start):
                found.append(hit)
        found += self._pair_hits(tokens, {p: h.term.intent for h in found if h.end - h.start > 1 for p in h.positions})
        found = self._without_feared(tokens, found)
        hits: list[_Hit] = []
        used: dict[str, set[int]] = {}
        words: set[str] = set()
        first: dict[str, int] = {}
        for hit in sorted(found, key=lambda h: -h.term.weight):  # each token counts once per intent
            kind, positions = hit.term.intent, hit.positions
            if hit.term.word in words or positions & used.setdefault(kind, set()):
                continue
            used[kind] |= positions
            words.add(hit.term.word)
            hits.append(hit)
            scores[kind] += hit.term.weight
            first[kind] = min(first.get(kind, hit.start), hit.start)
        return self._decide(scores, first, hits, resolved)

    def _decide(self, scores: dict[str, float], first: dict[str, int], hits: list[_Hit],
                resolved: float) -> Classification:
        """Pick the main intent, the secondary ones, the confidence and the priority."""
        cfg = self._set
        other = scores[FALLBACK] * cfg.other_weight
        critical = {h.term.intent for h in hits if h.term.priority == Priority.CRITICAL}
        routed = sorted((n for n in scores if n != FALLBACK and scores[n] > 0),
                        key=lambda n: (n not in critical, -scores[n], first[n]))  # safety first
        close = [n for n in routed if scores[n] >= cfg.main_margin * scores[routed[0]]]
        main = min(close, key=lambda n: (n not in critical, first[n])) if routed else FALLBACK
        top = scores[main] if routed else 0.0
        confidence = (1 - math.exp(-top / cfg.score_scale)) * math.sqrt(top / (top + other)) if top else 0.0
        # A case update, not a new complaint; a smell of gas needs twice the evidence ("虚惊一场，不用来了").
        update = resolved >= cfg.resolved_min * (2 if critical else 1)
        if update:
            scores[FALLBACK] += resolved
            main, confidence = FALLBACK, 1 - math.exp(-resolved / cfg.score_scale)
        elif not critical and (confidence < cfg.min_confidence or other > top):
            main, confidence = FALLBACK, 1 - confidence
        floor = max(cfg.also_min_score, cfg.also_ratio * top)
        also = () if main == FALLBACK else tuple(  # nothing is routed from a message no team owns
            n for n in sorted(scores, key=lambda n: -scores[n]) if n != main and scores[n] >= floor)
        spec = self._specs[main]
        priority, safety = spec.priority, spec.safety
        for cue in (h.term for h in hits):  # escalation cues: a smell of gas
            if cue.priority and cue.intent in (main, *also) and raise_priority(priority, cue.priority) != priority:
                priority, safety = cue.priority, cue.safety or safety
        hits.sort(key=lambda h: h.start)
        return Classification(
            intent=main, confidence=round(confidence, 3),
            terms=tuple(h.term.word for h in hits if h.term.intent in (main, *also)),
            also=also, priority=priority, scores=MappingProxyType({k: round(v, 2) for k, v in scores.items()}),
            safety=safety, resolved=update,
        )


def _base_dictionary(min_freq: int, cache_dir: Path) -> str | None:
    """jieba's dictionary without its rarest words (loads in a third of the time); None = full."""
    if min_freq <= 1:
        return None
    target = cache_dir / f"dict-{jieba.__version__}-min{min_freq}.txt"
    if target.exists():
        return str(target)
    source = Path(jieba.__file__).with_name("dict.txt")
    lines = [ln for ln in source.read_text(encoding="utf-8").splitlines(keepends=True)
             if int(ln.split(" ", 2)[1]) >= min_freq]
    try:
        cache_dir.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
        os.replace(tmp, target)  # atomic: several workers may start at once
    except OSError:
        return None  # no writable temp dir: the full dictionary still works, only slower to load
    return str(target)


def _user_words(path: Path) -> list[tuple[str, int | None]]:
    """handlers/userdict.txt: `word [freq]` per line, # comments."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("#", 1)[0].split()
        if parts:
            out.append((parts[0], int(parts[1]) if len(parts) > 1 else None))
    return out


def build_tokenizer(lexicon: Lexicon) -> jieba.Tokenizer:
    """A private jieba tokenizer (the global one is left alone) with the domain words added."""
    cache_dir = Path(tempfile.gettempdir()) / "mulin-jieba"
    tokenizer = jieba.Tokenizer(_base_dictionary(lexicon.settings.dictionary_min_freq, cache_dir)
                                or jieba.DEFAULT_DICT)
    tokenizer.tmp_dir = str(cache_dir)
    tokenizer.initialize()
    extra = Path(__file__).with_name("userdict.txt")
    for word, freq in (_user_words(extra) if extra.exists() else []):
        tokenizer.add_word(word, freq)
    for word in sorted(lexicon.words()):
        tokenizer.add_word(word)  # freq=None: just enough to keep the word whole
    return tokenizer


@lru_cache(maxsize=8)
def load_classifier(path: Path | None = None) -> Classifier:
    """Read the keyword table, build the tokenizer; LexiconError for a bad file.

    Cached per path: a Classifier is immutable, so apps built in one process share it.
    """
    lexicon = load_lexicon(Path(path) if path else None)
    return Classifier(lexicon, build_tokenizer(lexicon))


_default: Classifier | None = None
_default_lock = threading.Lock()


def classify(text: str) -> Classification:
    """Classify with a module default classifier, built on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = load_classifier()
    return _default.classify(text)
