"""What every command module shares: a database session of the app, a domain error shown in Chinese."""
from __future__ import annotations

import click
from flask import current_app
from sqlalchemy.orm import Session

from bot.errors import MulinError
from bot.services import services


def open_session() -> Session:
    """A new session of the current app (use it as a context manager; commands commit themselves)."""
    return services(current_app).sessions()


def refused(exc: MulinError, prefix: str = "") -> click.ClickException:
    """The error click prints for a domain error: its Chinese message, exit status 1."""
    return click.ClickException(f"{prefix}{exc}")
