"""Print the intent classifier's accuracy, precision/recall, confusion, speed and load time."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.understanding.classifier import Classifier, load_classifier  # noqa: E402

DATASETS = (
    ("tests/data (synthetic)", ROOT / "tests/data/intent_messages.jsonl"),
    ("shared examples", ROOT / "../shared/data/intent_examples.jsonl"),
    ("real titles (label or also)", ROOT / "../shared/data/real_complaints/titles_labeled.jsonl"),
)
LOAD_SNIPPET = (
    "import time; t = time.perf_counter(); import handlers.understanding.classifier as c; t1 = time.perf_counter(); "
    "c.load_classifier(); t2 = time.perf_counter(); print(f'{t1 - t:.3f} {t2 - t1:.3f}')"
)


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(name: str, rows: list[dict], clf: Classifier) -> None:
    """Accuracy (strict and label-or-also), per-intent precision/recall, confusion matrix."""
    intents = clf.intents
    preds = [clf.classify(r["text"]).intent for r in rows]
    strict = [p == r["intent"] for p, r in zip(preds, rows, strict=True)]
    lenient = [p == r["intent"] or p in r.get("also", ()) for p, r in zip(preds, rows, strict=True)]
    right = lenient if "also" in name else strict
    print(f"\n== {name}: {len(rows)} messages")
    print(f"accuracy strict {sum(strict) / len(rows):.1%}   label-or-also {sum(lenient) / len(rows):.1%}")
    hard = [ok for ok, r in zip(right, rows, strict=True) if r.get("hard")]
    if hard:
        print(f"hard rows {sum(hard) / len(hard):.1%} of {len(hard)}")
    print(f"{'intent':<13}{'precision':>10}{'recall':>8}{'pred':>6}{'true':>6}")
    for intent in intents:
        predicted = [ok for ok, p in zip(right, preds, strict=True) if p == intent]
        labelled = [ok for ok, r in zip(right, rows, strict=True) if r["intent"] == intent]
        precision = f"{sum(predicted) / len(predicted):.1%}" if predicted else "-"
        recall = f"{sum(labelled) / len(labelled):.1%}" if labelled else "-"
        print(f"{intent:<13}{precision:>10}{recall:>8}{len(predicted):>6}{len(labelled):>6}")
    confusion = Counter((r["intent"], p) for r, p in zip(rows, preds, strict=True))
    short = [i[:6] for i in intents]
    print("confusion (rows = label, columns = prediction)")
    print(" " * 13 + "".join(f"{s:>8}" for s in short))
    for label in intents:
        print(f"{label:<13}" + "".join(f"{confusion[label, p]:>8}" for p in intents))


def throughput(clf: Classifier, texts: list[str], seconds: float = 3.0) -> tuple[float, float]:
    """Messages per second of CPU time and of wall time, one thread, 20-40 character messages."""
    sample = [t for t in texts if 20 <= len(t) <= 40] or ["楼上邻居家的水管坏了，水一直往我家天花板上渗"]
    done, wall, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        for text in sample:
            clf.classify(text)
        done += len(sample)
    return done / (time.process_time() - cpu), done / (time.perf_counter() - wall)


def load_times() -> None:
    """Import and load_classifier() times in a fresh interpreter, warm and with no jieba cache."""
    with tempfile.TemporaryDirectory() as empty:
        for label, env in (("warm (cache present)", {}), ("cold (empty temp dir)", {"TMPDIR": empty})):
            out = subprocess.run([sys.executable, "-c", LOAD_SNIPPET], cwd=ROOT, capture_output=True, text=True,
                                 env={**os.environ, **env}, check=True).stdout.split()
            print(f"start-up {label}: import {out[0]} s, load_classifier() {out[1]} s")


def main() -> int:
    """Run every evaluation whose data file is present."""
    started = time.perf_counter()
    clf = load_classifier()
    print(f"load_classifier() in this process: {time.perf_counter() - started:.3f} s")
    texts: list[str] = []
    for name, path in DATASETS:
        if not path.is_file():
            print(f"\n== {name}: skipped, {path} not found")
            continue
        rows = _rows(path)
        texts += [r["text"] for r in rows]
        evaluate(name, rows, clf)
    sample = [t for t in texts if 20 <= len(t) <= 40]
    cpu, wall = throughput(clf, texts)
    print(f"\nthroughput: {cpu:,.0f} messages per CPU-second, {wall:,.0f} per wall-second "
          f"(one thread, {len(sample)} messages of 20-40 chars; os.getloadavg() = {os.getloadavg()[0]:.2f})")
    load_times()
    return 0


if __name__ == "__main__":
    sys.exit(main())
