"""Mulin's named domain errors, in one place."""
from __future__ import annotations


class MulinError(Exception):
    """Base of Mulin's domain errors; the message is safe to show to staff."""


class NotFound(MulinError):
    """A case, notice, compound or user that does not exist."""


class InvalidTransition(MulinError):
    """A case status change that the lifecycle does not allow."""


class ImportFileError(MulinError):
    """A CSV file that cannot be imported (the message names the line)."""


class RoutingError(ValueError):
    """routing.yaml cannot be used (checked on start-up); the message names the file and the bad entry."""
