"""Print how long the classifier takes on very long messages, next to a normal one (figures, no asserts)."""
from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.understanding.classifier import Classifier, build_tokenizer, load_classifier  # noqa: E402

NORMAL = "楼上邻居家的水管坏了，水一直往我家天花板上渗"
STORY = NORMAL + "。"
SIZES = (2000, 10000, 60000)
KINDS = {
    "keyword + letters": lambda n: "楼上漏水" + "a" * (n - 4),
    "digits": lambda n: "1" * n,
    "Chinese story": lambda n: (STORY * (n // len(STORY) + 1))[:n],
}


def seconds(clf: Classifier, text: str, runs: int = 5) -> float:
    """Median wall time of one classification (after one untimed run: caches and allocator warm)."""
    clf.classify(text)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        clf.classify(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def uncut(clf: Classifier) -> Classifier:
    """The same classifier reading whole messages: shows that the scan itself is linear, not only the cut."""
    lexicon = replace(clf.lexicon, settings=replace(clf.lexicon.settings, max_chars=10**9))
    return Classifier(lexicon, build_tokenizer(lexicon))


def main() -> int:
    """Print a table: message kind and length, classify time with the cut and without it."""
    clf = load_classifier()
    whole = uncut(clf)
    print(f"max_chars = {clf.lexicon.settings.max_chars}; median of 5 runs (3 for whole texts), one thread")
    print(f"{'message':<20}{'chars':>8}{'classify':>12}{'whole text':>12}")
    print(f"{'normal':<20}{len(NORMAL):>8}{seconds(clf, NORMAL) * 1000:>10.2f}ms"
          f"{seconds(whole, NORMAL) * 1000:>10.2f}ms")
    for kind, make in KINDS.items():
        for size in SIZES:
            text = make(size)
            cut, full = seconds(clf, text), seconds(whole, text, runs=3)
            print(f"{kind:<20}{size:>8,}{cut * 1000:>10.2f}ms{full * 1000:>10.2f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
