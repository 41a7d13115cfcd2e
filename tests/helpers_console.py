"""Shared steps for the console tests: log in with CSRF tokens, create users, report a case."""
from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bot.clock import utcnow
from bot.domain import users
from bot.storage.models import Case
from tests.helpers_intake import BOUND, cases_of

TOKEN_RE = re.compile(r'name="csrf[_-]token" (?:value|content)="([^"]+)"')


class Console:
    """A browser-like user of the console: fetches pages, posts forms with their CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, path: str = "/console/login") -> str:
        """The CSRF token from a page (each page carries one in a meta tag or form)."""
        match = TOKEN_RE.search(self.client.get(path).get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username: str = "admin", password: str = "mulin-demo") -> TestResponse:
        """Post the login form."""
        return self.client.post("/console/login", data={"username": username, "password": password,
                                                        "csrf_token": self.token()})

    def post(self, path: str, **data: str) -> TestResponse:
        """Post a console form with a valid token."""
        return self.client.post(path, data={**data, "csrf_token": self.token("/console/cases")})

    def page(self, path: str) -> str:
        """A page's HTML (asserting 200)."""
        res = self.client.get(path)
        assert res.status_code == 200, (path, res.status_code)
        return res.get_data(as_text=True)


def add_user(db: Session, username: str, role: str = "staff", department: str | None = None,
             community: str | None = None, password: str = "secret-pass-1") -> None:
    """A console user, committed."""
    users.create_user(db, username=username, password=password, role=role, now=utcnow(),
                      department=department, community=community)
    db.commit()


def report(wechat, db: Session, text: str = "我家楼上漏水了，天花板一直在滴水", openid: str = BOUND) -> Case:  # type: ignore[no-untyped-def]
    """A resident of the demo street reports through the webhook; returns the newest case."""
    reply = wechat.send_text(text, openid=openid)
    assert reply.status == 200
    return cases_of(db, openid)[-1]


@pytest.fixture
def console(client, street, db) -> Console:  # type: ignore[no-untyped-def]
    """The demo street with the demo admin, logged in."""
    users.ensure_demo_admin(db, utcnow())
    db.commit()
    c = Console(client)
    assert c.login().status_code == 302
    return c
