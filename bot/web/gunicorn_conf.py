"""gunicorn settings for Mulin: `gunicorn -c python:bot.web.gunicorn_conf 'bot:create_app()'`.

WeChat signs the URL of every push (`/wechat?signature=…&timestamp=…&nonce=…`): a logged query string
is a credential for five minutes, so gunicorn's own lines (errors, the access log) carry the path only.
"""
from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_QUERY = re.compile(r"\?[^\s\"']*")


def scrub(value: object) -> object:
    """A log argument without any query string."""
    return _QUERY.sub("?…", value) if isinstance(value, str) else value


class PathOnlyLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's logger, with query strings cut from its messages and from the access log."""

    def log(self, lvl: int, msg: str, *args: Any, **kwargs: Any) -> None:
        super().log(lvl, scrub(msg), *map(scrub, args), **kwargs)

    def critical(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().critical(scrub(msg), *map(scrub, args), **kwargs)

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().error(scrub(msg), *map(scrub, args), **kwargs)

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().warning(scrub(msg), *map(scrub, args), **kwargs)

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().info(scrub(msg), *map(scrub, args), **kwargs)

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().debug(scrub(msg), *map(scrub, args), **kwargs)

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().exception(scrub(msg), *map(scrub, args), **kwargs)

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """The access log's fields: the request line and `%(q)s` without the query."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["r"] = scrub(atoms.get("r", ""))
        atoms["q"] = ""
        return atoms


logger_class = PathOnlyLogger
