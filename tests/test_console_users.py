"""User management in the console (issue 13): staff by default, edit, disable, reset password, all audited."""
from __future__ import annotations

import logging
import re

import pytest

from bot.domain import users
from tests.helpers_console import Console, add_user
from tests.helpers_intake import street  # noqa: F401 - fixture


@pytest.fixture
def admin(client, street, db) -> Console:  # type: ignore[no-untyped-def]
    add_user(db, "admin", role="admin", password="mulin-demo")
    add_user(db, "li", department="grid", community="茶马南街社区", password="a-long-secret")
    c = Console(client)
    assert c.login().status_code == 302
    return c


def _id(db, username: str) -> int:  # type: ignore[no-untyped-def]
    db.expire_all()
    return users.find(db, username).id


def test_the_add_user_form_defaults_to_staff(admin: Console) -> None:
    html = admin.page("/console/users")
    form = html[html.index("新增用户"):]
    options = re.findall(r'<option value="(admin|staff)"( selected)?', form)
    assert options[0] == ("staff", " selected") and ("admin", "") in options


def test_a_role_field_left_out_makes_staff_not_admin(admin: Console, db) -> None:
    admin.post("/console/users", username="zhao", password="a-long-secret", department="grid")
    db.expire_all()
    assert users.find(db, "zhao").role == "staff"


def test_edit_a_users_role_and_scope(admin: Console, db, client) -> None:
    user_id = _id(db, "li")
    page = admin.page(f"/console/users/{user_id}")
    assert "li" in page and "重置密码" in page and "停用" in page
    res = admin.post(f"/console/users/{user_id}/edit", role="staff", department="property", community="")
    assert res.status_code == 302
    db.expire_all()
    li = users.find(db, "li")
    assert (li.department, li.community_id) == ("property", None)
    assert "已保存" in admin.page("/console/users")


def test_an_admin_with_a_department_is_refused_in_chinese(admin: Console, db) -> None:
    admin.post(f"/console/users/{_id(db, 'li')}/edit", role="admin", department="grid", community="")
    db.expire_all()
    assert users.find(db, "li").role == "staff"
    assert "管理员" in admin.page(f"/console/users/{_id(db, 'li')}")


def test_disable_ends_the_users_sessions_and_logins(admin: Console, db, app) -> None:
    other = Console(app.test_client())
    assert other.login("li", "a-long-secret").status_code == 302
    admin.post(f"/console/users/{_id(db, 'li')}/disable")
    assert other.client.get("/console/cases").status_code == 302  # logged out at once
    assert other.login("li", "a-long-secret").status_code == 401
    assert "已停用" in admin.page("/console/users")
    admin.post(f"/console/users/{_id(db, 'li')}/enable")
    assert other.login("li", "a-long-secret").status_code == 302


def test_reset_password(admin: Console, db, app) -> None:
    admin.post(f"/console/users/{_id(db, 'li')}/password", password="brand-new-secret")
    other = Console(app.test_client())
    assert other.login("li", "a-long-secret").status_code == 401
    assert other.login("li", "brand-new-secret").status_code == 302
    admin.post(f"/console/users/{_id(db, 'li')}/password", password="short")
    assert "至少8位" in admin.page(f"/console/users/{_id(db, 'li')}")


def test_an_admin_cannot_disable_or_demote_themselves(admin: Console, db) -> None:
    me = _id(db, "admin")
    admin.post(f"/console/users/{me}/disable")
    admin.post(f"/console/users/{me}/edit", role="staff", department="", community="")
    db.expire_all()
    user = users.find(db, "admin")
    assert not user.disabled and user.role == "admin"
    assert admin.client.get("/console/users").status_code == 200


def test_changes_are_audited(admin: Console, db, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO):
        admin.post(f"/console/users/{_id(db, 'li')}/password", password="brand-new-secret")
        admin.post(f"/console/users/{_id(db, 'li')}/disable")
    lines = [r.getMessage() for r in caplog.records if "console: admin" in r.getMessage()]
    assert len(lines) == 2 and all("'li'" in line for line in lines)
    assert not any("brand-new-secret" in r.getMessage() for r in caplog.records)


def test_staff_may_not_manage_users(client, street, db) -> None:
    add_user(db, "li", password="a-long-secret")
    add_user(db, "wang", password="a-long-secret")
    c = Console(client)
    c.login("li", "a-long-secret")
    wang = _id(db, "wang")
    assert client.get(f"/console/users/{wang}").status_code == 403
    assert c.post(f"/console/users/{wang}/disable").status_code == 403
