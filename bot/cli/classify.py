"""`flask classify`: one message per stdin line in, one JSON object per line out."""
from __future__ import annotations

import json
from typing import Any, TextIO

import click
from flask.cli import with_appcontext

from flask import current_app

from handlers.understanding.classifier import Classifier
from bot.services import services


def describe(classifier: Classifier, text: str, explain: bool = False) -> dict[str, Any]:
    """The JSON-ready answer for one message; with explain, the scores and how they came about."""
    result = classifier.classify(text)
    out: dict[str, Any] = {
        "text": text, "intent": result.intent, "confidence": result.confidence,
        "also": list(result.also), "terms": list(result.terms),
    }
    if explain:
        spec = classifier.spec(result.intent)
        out.update(
            scores=dict(result.scores), priority=result.priority, department=spec.department,
            time_limit_hours=result.time_limit.total_seconds() / 3600 if result.time_limit else None,
            safety=result.safety, tokens=classifier.tokens(text),
        )
    return out


@click.command("classify")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--explain", is_flag=True, help="Add per-intent scores, priority, department and tokens.")
@with_appcontext
def classify_command(source: TextIO, explain: bool) -> None:
    """Classify messages, one per line of SOURCE (default stdin); print JSON lines to stdout."""
    classifier = services(current_app).classifier
    for line in source:
        text = line.rstrip("\r\n")
        click.echo(json.dumps(describe(classifier, text, explain), ensure_ascii=False))
