"""`flask classify`: one message per stdin line in, one JSON object per line out."""
from __future__ import annotations

import json
from typing import Any, TextIO

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.domain import routing
from bot.services import services
from handlers.understanding.classifier import Classifier


def _decision(intent: str, priority: str, where: str, text: str) -> dict[str, Any]:
    """What routing decides for a case of this intent, as JSON values."""
    decision = routing.decide(intent, priority, where, text)
    return {"department": decision.department, "time_limit_hours": decision.time_limit.total_seconds() / 3600,
            "inform": list(decision.inform)}


def describe(classifier: Classifier, text: str, explain: bool = False) -> dict[str, Any]:
    """The JSON-ready answer for one message; with explain, the scores and what routing would decide.

    department, time_limit_hours and inform are routing's decision at a building with a property
    company (the common case); `routing` holds it for every situation (managed, unmanaged, unknown).
    """
    result = classifier.classify(text)
    out: dict[str, Any] = {
        "text": text, "intent": result.intent, "confidence": result.confidence,
        "also": list(result.also), "terms": list(result.terms),
    }
    if explain:
        by_situation = {where: _decision(result.intent, result.priority, where, text) for where in routing.SITUATIONS}
        out.update(scores=dict(result.scores), priority=result.priority, **by_situation["managed"],
                   routing=by_situation, safety=result.safety, tokens=classifier.tokens(text))
    return out


@click.command("classify")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--explain", is_flag=True, help="Add per-intent scores, priority, routing's decision and tokens.")
@with_appcontext
def classify_command(source: TextIO, explain: bool) -> None:
    """Classify messages, one per line of SOURCE (default stdin); print JSON lines to stdout."""
    classifier = services(current_app).classifier
    for line in source:
        text = line.rstrip("\r\n")
        click.echo(json.dumps(describe(classifier, text, explain), ensure_ascii=False))
