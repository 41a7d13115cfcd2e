"""Console access: login, CSRF on every form, lockout, logout, no open redirects."""
from __future__ import annotations

import pytest

from bot.domain import users
from bot.services import services
from bot.web.console import throttle
from tests.helpers_console import Console, add_user


@pytest.fixture
def console(client, db) -> Console:  # type: ignore[no-untyped-def]
    add_user(db, "admin", role="admin", password="mulin-demo")
    return Console(client)


@pytest.mark.parametrize("path", ["/console/", "/console/cases", "/console/notices", "/console/stats",
                                  "/console/stats.csv", "/console/cases/20260101-0001"])
def test_pages_need_login(client, path: str) -> None:
    res = client.get(path)
    assert res.status_code == 302
    assert "/console/login" in res.headers["Location"]


@pytest.mark.parametrize("path", ["/console/live.json", "/console/cases/20260101-0001/live.json"])
def test_a_pages_poll_after_logout_is_refused_without_a_new_session(app, console: Console, path: str) -> None:  # type: ignore[no-untyped-def]
    """An open page's poll after the session ended: 401, not the login page, whose new session would replace the
    cookie of a login form the clerk has open (their login was then refused as 页面已过期)."""
    cookieless = app.test_client().get(path)  # the poll in flight when the cookie went
    assert (cookieless.status_code, cookieless.get_json()) == (401, {"error": "unauthorized"})
    assert "Set-Cookie" not in cookieless.headers
    console.login()
    console.post("/console/logout")
    form_token = console.token("/console/login?next=/console/cases")  # the clerk opens the login form
    assert console.client.get(path).status_code == 401
    res = console.client.post("/console/login", data={"username": "admin", "password": "mulin-demo",
                                                      "csrf_token": form_token})
    assert res.status_code == 302 and res.headers["Location"].endswith("/console/cases")  # the form still works
    assert console.client.get(path).status_code in (200, 404)
    assert console.post("/console/logout").status_code == 302


def test_login_and_logout(console: Console) -> None:
    res = console.login()
    assert res.status_code == 302 and res.headers["Location"].endswith("/console/cases")
    assert "工单" in console.page("/console/cases")
    res = console.post("/console/logout")
    assert res.status_code == 302
    assert console.client.get("/console/cases").status_code == 302


def test_wrong_password_is_refused(console: Console) -> None:
    res = console.login(password="not-the-password")
    assert res.status_code == 401
    assert "用户名或密码错误" in res.get_data(as_text=True)
    assert console.client.get("/console/cases").status_code == 302


def test_post_without_csrf_token_is_refused(console: Console) -> None:
    res = console.client.post("/console/login", data={"username": "admin", "password": "mulin-demo"})
    assert res.status_code == 400 and "页面已过期" in res.get_data(as_text=True)
    assert console.client.get("/console/cases").status_code == 302  # not logged in
    console.login()
    res = console.client.post("/console/notices",
                              data={"community": "x", "text": "y", "cleanup_at": "2030-01-01T10:00"})
    assert res.status_code == 400
    res = console.client.post("/console/logout")
    assert res.status_code == 400


def test_lockout_after_repeated_wrong_passwords(console: Console) -> None:
    for _ in range(throttle.PER_ADDRESS_AND_USER):
        assert console.login(password="guess").status_code == 401
    res = console.login()  # the right password, but locked
    assert res.status_code == 401
    assert "锁定" in res.get_data(as_text=True)


@pytest.mark.parametrize("target, expected", [
    ("/console/stats", "/console/stats"),
    ("//evil.example/console", "/console/cases"),
    ("https://evil.example/console", "/console/cases"),
    ("/console/stats\r\nSet-Cookie: x=1", "/console/cases"),
    ("/console/stats%0d%0aSet-Cookie:%20x=1", "/console/stats%0d%0aSet-Cookie:%20x=1"),  # encoded: a path
    ("/console\\@evil.example", "/console/cases"),
    ("/console/\t/stats", "/console/cases"),
    ("/consolex/../../elsewhere", "/console/cases"),
    ("/console?q=1", "/console?q=1"),
    ("/console/cases/20260101-0001", "/console/cases/20260101-0001"),
])
def test_login_redirects_only_inside_the_console(console: Console, target: str, expected: str) -> None:
    res = console.client.post("/console/login", query_string={"next": target}, data={
        "username": "admin", "password": "mulin-demo", "csrf_token": console.token()})
    assert res.status_code == 302 and res.headers["Location"] == expected


def test_session_cookie_is_http_only(console: Console) -> None:
    res = console.login()
    cookie = res.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(settings) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app

    app = create_app({**settings, "MULIN_ENV": "production"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    services(app).engine.dispose()


def test_admin_manages_users_and_staff_may_not(console: Console, client, db) -> None:
    console.login()
    assert console.post("/console/users", username="li", password="a-long-secret", role="staff",
                        department="grid", community="").status_code == 302
    html = console.page("/console/users")
    assert "li" in html and "社区网格员" in html and "pbkdf2" not in html and "scrypt" not in html
    assert console.post("/console/users", username="li", password="a-long-secret", role="staff").status_code == 302
    assert "无法创建用户" in console.page("/console/users")
    console.post("/console/logout")
    assert console.login("li", "a-long-secret").status_code == 302
    assert client.get("/console/users").status_code == 403
    assert console.post("/console/users", username="x", password="a-long-secret", role="admin").status_code == 403


def test_admin_unlocks_a_locked_user(console: Console, db) -> None:
    add_user(db, "li", password="a-long-secret")
    for _ in range(throttle.PER_ADDRESS_AND_USER):
        console.login("li", "guess")
    console.login()
    user = users.find(db, "li")
    assert "已锁定" in console.page("/console/users")
    console.post(f"/console/users/{user.id}/unlock")
    console.post("/console/logout")
    assert console.login("li", "a-long-secret").status_code == 302


def test_errors_are_chinese_pages_in_the_console_layout(client, street, wechat, db) -> None:
    from tests.helpers_console import report

    case = report(wechat, db)
    add_user(db, "grid1", department="grid")
    console = Console(client)
    console.login("grid1", "secret-pass-1")
    for path, code, says in ((f"/console/cases/{case.number}", 404, "不在您的负责范围内"),
                             ("/console/no-such-page", 404, "找不到该页面"), ("/console/users", 403, "没有权限")):
        res = client.get(path)
        html = res.get_data(as_text=True)
        assert res.status_code == code and says in html and "返回工单列表" in html and "退出" in html, path
        assert "Not Found" not in html and "Forbidden" not in html
    api = client.get("/api/cases/nope", headers={"Authorization": "Bearer test-api-token"})
    assert api.status_code == 404 and api.get_json() == {"error": "not found"}
