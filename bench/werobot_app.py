"""The peer: a WeRoBot 1.13.1 echo webhook with WeRoBot's default session storage (SQLite, in the cwd).

Served by gunicorn from WeRoBot's own virtualenv (bench/requirements.txt), never from Mulin's.
"""
from __future__ import annotations

import os

from werobot import WeRoBot

robot = WeRoBot(token=os.environ.get("WECHAT_TOKEN", "benchtoken"))  # SESSION_STORAGE unset: SQLiteStorage


@robot.text
def echo(message, session):
    """Answer the text with itself; count the resident's messages in the session, so WeRoBot stores it."""
    session["messages"] = session.get("messages", 0) + 1
    return message.content


app = robot.wsgi
