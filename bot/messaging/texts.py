"""User-facing Chinese text, rendered from templates/text/ (never literals in code)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.config import ROOT

TEXT_DIR = ROOT / "templates" / "text"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEXT_DIR)), undefined=StrictUndefined,
        keep_trailing_newline=False, autoescape=False,
        auto_reload=False,  # read once per process (a restart picks up edits), not stat()ed on every reply
    )


def render_text(name: str, **context: Any) -> str:
    """Render templates/text/<name>.txt with context, trimmed."""
    return _env().get_template(f"{name}.txt").render(**context).strip()


def lines(name: str) -> tuple[str, ...]:
    """The non-empty lines of templates/text/<name>.txt, or () when there is no such template."""
    if f"{name}.txt" not in _names():
        return ()
    return tuple(line.strip() for line in render_text(name).splitlines() if line.strip())


@lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    return frozenset(_env().list_templates())


@lru_cache(maxsize=1)
def _labels() -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = yaml.safe_load((TEXT_DIR / "labels.yaml").read_text(encoding="utf-8"))
    return labels


def label(group: str, key: str | None) -> str:
    """The Chinese label of a code, e.g. label('department', 'property') -> '物业公司'."""
    if key is None:
        return ""
    return _labels().get(group, {}).get(key, key)
