"""gunicorn settings for Mulin: `gunicorn -c python:bot.web.gunicorn_conf 'bot:create_app()'`.

WeChat signs the URL of every push (`/wechat?signature=…&timestamp=…&nonce=…`): a logged query string
is a credential for five minutes, so gunicorn's own lines (errors, the access log) carry the path only.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

_QUERY = re.compile(r"\?[^\s\"']*")


def scrub(value: object) -> object:
    """A log argument without any query string."""
    return _QUERY.sub("?…", value) if isinstance(value, str) else value


class _DropQuery(logging.Filter):
    """Cuts query strings from a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(arg) for arg in record.args)
        return True


class PathOnlyLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's logger, with query strings cut from its messages and from the access log."""

    def setup(self, cfg: Any) -> None:
        """gunicorn's set-up, then the filter on its error log."""
        super().setup(cfg)
        self.error_log.addFilter(_DropQuery())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """The access log's fields: the request line and `%(q)s` without the query."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["r"] = scrub(atoms.get("r", ""))
        atoms["q"] = ""
        return atoms


logger_class = PathOnlyLogger
