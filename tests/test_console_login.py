"""Login that resists abuse (issue 17, items 3 and 10): throttled per address and username, one answer
for unknown and real names, refusals logged; sessions that end on logout; security headers."""
from __future__ import annotations

import logging
import re

import pytest
from werkzeug import security

from bot import create_app
from bot.domain import users
from bot.services import services
from bot.web.console import throttle
from tests.helpers_console import Console, add_user
from tests.helpers_intake import street  # noqa: F401 - fixture

HOME, ELSEWHERE = "10.0.0.1", "10.0.0.2"


@pytest.fixture
def console(client, db) -> Console:  # type: ignore[no-untyped-def]
    add_user(db, "admin", role="admin", password="mulin-demo")
    return Console(client)


def _login(console: Console, username: str, password: str, address: str):  # type: ignore[no-untyped-def]
    return console.client.post("/console/login", data={"username": username, "password": password,
                                                      "csrf_token": console.token()},
                               environ_base={"REMOTE_ADDR": address})


def _fail_until_locked(console: Console, username: str, address: str) -> None:
    for _ in range(throttle.PER_ADDRESS_AND_USER):
        assert _login(console, username, "guess", address).status_code == 401


def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(console: Console) -> None:
    _fail_until_locked(console, "admin", ELSEWHERE)
    locked = _login(console, "admin", "mulin-demo", ELSEWHERE)
    assert locked.status_code == 401 and "锁定" in locked.get_data(as_text=True)
    assert _login(console, "admin", "mulin-demo", HOME).status_code == 302


def test_the_lock_does_not_reset_when_it_starts(console: Console) -> None:
    _fail_until_locked(console, "admin", ELSEWHERE)
    for _ in range(3):  # more guesses while locked keep it locked instead of starting a fresh count
        assert "锁定" in _login(console, "admin", "guess", ELSEWHERE).get_data(as_text=True)
    assert "锁定" in _login(console, "admin", "mulin-demo", ELSEWHERE).get_data(as_text=True)


def test_unknown_and_real_usernames_get_the_same_answer(console: Console) -> None:
    _fail_until_locked(console, "admin", ELSEWHERE)
    _fail_until_locked(console, "nobody", ELSEWHERE)
    real = _login(console, "admin", "guess", ELSEWHERE)
    unknown = _login(console, "nobody", "guess", ELSEWHERE)
    assert real.status_code == unknown.status_code == 401
    strip = re.compile(r'value="[^"]*"')  # the CSRF token differs
    assert strip.sub("", real.get_data(as_text=True)) == strip.sub("", unknown.get_data(as_text=True))


def test_unknown_usernames_cost_a_password_check_too(console: Console, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    checked: list[str] = []
    real_check = security.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash.split("$", 1)[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", counting)
    _login(console, "nobody", "guess", HOME)
    _login(console, "admin", "guess", HOME)
    assert len(checked) == 2 and checked[0] == checked[1]  # the same method and cost for both


def test_refused_logins_are_logged_with_username_and_address(console: Console, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO):
        _login(console, "admin", "not-the-password", ELSEWHERE)
    line = next(r.getMessage() for r in caplog.records if "login refused" in r.getMessage())
    assert "admin" in line and ELSEWHERE in line and "not-the-password" not in line


def test_a_username_with_a_line_break_cannot_forge_log_lines(console: Console, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO):
        _login(console, "x\nconsole login ok", "guess", HOME)
    line = next(r.getMessage() for r in caplog.records if "login refused" in r.getMessage())
    assert "\n" not in line


def test_a_trusted_proxy_gives_the_client_address(settings, db) -> None:  # type: ignore[no-untyped-def]
    app = create_app({**settings, "TRUSTED_PROXIES": 1})
    try:
        with app.app_context():
            session = services(app).sessions()
            add_user(session, "admin", role="admin", password="mulin-demo")
            session.close()
        console = Console(app.test_client())

        def login(password: str, client_address: str):  # type: ignore[no-untyped-def]
            return console.client.post("/console/login", data={
                "username": "admin", "password": password, "csrf_token": console.token()},
                environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-For": client_address})

        for _ in range(throttle.PER_ADDRESS_AND_USER):
            login("guess", ELSEWHERE)
        assert login("mulin-demo", ELSEWHERE).status_code == 401
        assert login("mulin-demo", HOME).status_code == 302  # same proxy, another client
    finally:
        services(app).engine.dispose()


def test_without_a_trusted_proxy_forwarded_addresses_are_ignored(console: Console) -> None:
    for n in range(throttle.PER_ADDRESS_AND_USER):
        console.client.post("/console/login", data={"username": "admin", "password": "guess",
                                                    "csrf_token": console.token()},
                            headers={"X-Forwarded-For": f"10.9.9.{n}"})
    assert "锁定" in console.login().get_data(as_text=True)


def test_the_session_ends_on_logout_even_for_a_copied_cookie(console: Console, app) -> None:
    assert console.login().status_code == 302
    cookie = console.client.get_cookie("session")
    assert cookie is not None
    console.post("/console/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    res = thief.get("/console/cases")
    assert res.status_code == 302 and "/console/login" in res.headers["Location"]


def test_logging_in_again_after_logout_works(console: Console) -> None:
    console.login()
    console.post("/console/logout")
    assert console.login().status_code == 302
    assert console.client.get("/console/cases").status_code == 200


@pytest.mark.parametrize("path", ["/console/login", "/console/cases", "/console/notices", "/console/stats",
                                  "/console/users", "/console/simulator"])
def test_security_headers_on_console_pages(console: Console, path: str) -> None:
    console.login()
    res = console.client.get(path)
    assert res.status_code == 200
    csp = res.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert res.headers["X-Frame-Options"] == "DENY"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert res.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.I)


def test_console_pages_need_nothing_inline_under_the_policy(console: Console, street, wechat, db) -> None:
    from datetime import timedelta

    from bot.clock import fmt_local, utcnow
    from bot.storage.models import Notice
    from tests.helpers_console import report

    case = report(wechat, db)
    _fail_until_locked(console, "admin", ELSEWHERE)  # the users page then shows an unlock button
    console.login()
    cleanup = fmt_local(utcnow() + timedelta(days=3), "%Y-%m-%dT%H:%M")
    console.post("/console/notices", compound="马连道南口三区", buildings="5", community="", cleanup_at=cleanup,
                 text="请搬走楼道杂物")
    notice = db.query(Notice).one()
    for path in ("/console/login", "/console/cases", f"/console/cases/{case.number}", "/console/notices",
                 f"/console/notices/{notice.id}", "/console/stats", "/console/users", "/console/simulator"):
        html = console.page(path)
        found = INLINE.search(html)
        assert found is None, (path, found and found.group(0))
