"""Template messages with their real fields: templates/wechat/templates.yaml, checked at start-up.

Real templates declare their own fields (thing1, time2, character_string3 …), each with a length
limit; a template message that sends one `content` field is rejected or shown blank. The file maps
each purpose to its template id, the fields rendered from the message and an optional link; the
values are trimmed to WeChat's limit for the field's type. TEMPLATE_IDS stays as a shortcut: a
purpose not set up in the file sends its TEMPLATE_IDS template with one `content` field, as before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template, TemplateError

from bot.clock import fmt_local
from bot.config import ROOT, ConfigError
from bot.messaging.texts import label

PATH = ROOT / "templates" / "wechat" / "templates.yaml"
SUBSCRIPTIONS_PATH = ROOT / "templates" / "wechat" / "subscriptions.yaml"  # the same format, for 订阅通知
# WeChat's limits per field type, in characters ("time"/"date" values are formatted, not cut)
LIMITS = {"thing": 20, "character_string": 32, "phrase": 5, "name": 10, "number": 32, "letter": 32,
          "symbol": 5, "car_number": 8, "phone_number": 17, "amount": 16, "time": 32, "date": 32, "const": 20}
FIELD = re.compile(r"^(?P<kind>[a-z_]+?)\d+$")
MARK = "…"


class TemplateFileError(ConfigError):
    """templates/wechat/templates.yaml cannot be used (says where and why)."""


def trim(kind: str, value: str) -> str:
    """A field's value within its type's limit (one line, cut with … when longer)."""
    value = " ".join(value.split())
    limit = LIMITS[kind]
    return value if len(value) <= limit else value[:limit - 1] + MARK


def _first_line(text: object) -> str:
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def _environment() -> Environment:
    env = Environment(undefined=StrictUndefined, autoescape=False)
    env.filters["local"] = lambda value: fmt_local(value) if value else ""
    env.filters["label"] = lambda value, group: label(group, value)
    env.filters["first_line"] = _first_line
    return env


@dataclass(frozen=True)
class Entry:
    """One purpose's template: its id, fields (type and compiled value) and link."""

    template_id: str
    fields: dict[str, tuple[str, Template]]
    url: Template | None = None


@dataclass(frozen=True)
class TemplateMessage:
    """What goes to message/template/send."""

    template_id: str
    data: dict[str, dict[str, str]]
    url: str | None = None


@dataclass(frozen=True)
class TemplateBook:
    """The purposes' templates from the file, and the TEMPLATE_IDS shortcut."""

    entries: dict[str, Entry] = field(default_factory=dict)
    shortcut: dict[str, str] = field(default_factory=dict)

    def has(self, purpose: str) -> bool:
        """Whether `message` gives a template message for this purpose (the file's entry, or the shortcut)."""
        return purpose in self.entries or bool(self.shortcut.get(purpose) or self.shortcut.get("default"))

    def message(self, purpose: str, text: str, context: dict[str, Any],
                template_data: dict[str, Any] | None = None) -> TemplateMessage | None:
        """The template message for this purpose, filled from the message; None when there is none."""
        entry = self.entries.get(purpose)
        if entry is None:
            template_id = self.shortcut.get(purpose) or self.shortcut.get("default")
            if not template_id:
                return None
            return TemplateMessage(template_id, template_data or {"content": {"value": text}})
        values = {**context, "text": text}
        data = {name: {"value": trim(kind, value.render(values))} for name, (kind, value) in entry.fields.items()}
        url = entry.url.render(values).strip() if entry.url is not None and values.get("base_url") else None
        return TemplateMessage(entry.template_id, data, url or None)


def _entry(env: Environment, path: Path, purpose: str, spec: Any) -> Entry | None:
    where = f"{path.name}: {purpose}"
    if not isinstance(spec, dict) or not isinstance(spec.get("fields"), dict) or not spec["fields"]:
        raise TemplateFileError(f"{where}: needs template_id and a non-empty `fields` mapping")
    template_id = str(spec.get("template_id") or "").strip()
    fields: dict[str, tuple[str, Template]] = {}
    for name, source in spec["fields"].items():
        match = FIELD.match(str(name))
        if match is None or match["kind"] not in LIMITS:
            raise TemplateFileError(f"{where}: field '{name}' is not a WeChat field name like thing1 or time2 "
                                    f"(types: {', '.join(sorted(LIMITS))})")
        try:
            fields[str(name)] = (match["kind"], env.from_string(str(source)))
        except TemplateError as exc:
            raise TemplateFileError(f"{where}: field '{name}': {exc}") from exc
    try:
        url = env.from_string(str(spec["url"])) if spec.get("url") else None
    except TemplateError as exc:
        raise TemplateFileError(f"{where}: url: {exc}") from exc
    return Entry(template_id, fields, url) if template_id else None


def load(shortcut: dict[str, str] | None = None, path: Path = PATH) -> TemplateBook:
    """Read and check the file; TemplateFileError says what is wrong. A missing file means shortcut only."""
    if not path.exists():
        return TemplateBook(shortcut=dict(shortcut or {}))
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateFileError(f"{path.name}: cannot read: {exc}") from exc
    if not isinstance(spec, dict):
        raise TemplateFileError(f"{path.name}: expected one entry per purpose (notice, followup, …)")
    env = _environment()
    entries = {str(purpose): _entry(env, path, str(purpose), value) for purpose, value in spec.items()}
    return TemplateBook({k: v for k, v in entries.items() if v is not None}, dict(shortcut or {}))
