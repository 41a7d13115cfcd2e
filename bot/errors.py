"""Mulin's errors, in one place: domain errors carry a Chinese message for staff (templates/text/errors.yaml).

A domain error is raised with a code and its fields, e.g. `NotFound("case_not_found", number=n)`;
`str(exc)` is the message the CLI and the console show, so no English exception text reaches staff.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from bot.config import ROOT

MESSAGES_PATH = ROOT / "templates" / "text" / "errors.yaml"


@lru_cache(maxsize=1)
def _messages() -> dict[str, str]:
    """The message table (read once)."""
    table: dict[str, str] = yaml.safe_load(MESSAGES_PATH.read_text(encoding="utf-8"))
    return table


def message(code: str, **fields: Any) -> str:
    """The Chinese message of an error code with its fields filled in; KeyError for an unknown code."""
    return _messages()[code].format(**fields)


class MulinError(Exception):
    """Base of Mulin's domain errors; str() is safe to show to staff.

    A code from errors.yaml is turned into its message; anything else is taken as the message itself
    (users.LoginRefused passes its own text, which the console never shows).
    """

    def __init__(self, code: str, **fields: Any) -> None:
        self.code, self.fields = code, fields
        super().__init__(message(code, **fields) if code in _messages() else code)


class NotFound(MulinError):
    """A case, notice, community, compound or user that does not exist."""


class InvalidTransition(MulinError):
    """A case status change that the lifecycle does not allow."""


class ImportFileError(MulinError):
    """A CSV file that cannot be imported (the message names the line)."""


class InvalidNotice(MulinError):
    """A notice that cannot be created or changed as asked."""


class NoticeLocked(MulinError):
    """A notice that has started sending (or was cancelled) and can no longer be changed."""


class InvalidUser(MulinError):
    """A console user that cannot be created as asked."""


class InvalidMember(MulinError):
    """A 睦邻坊 member that cannot be added as asked."""


class RoutingError(ValueError):
    """routing.yaml cannot be used (checked on start-up); the message names the file and the bad entry."""
