"""Console users: hashed passwords, roles, session versions, the demo admin and the `user create` command."""
from __future__ import annotations

from datetime import datetime

import pytest
from werkzeug.security import check_password_hash

from bot.domain import users
from bot.errors import NotFound
from bot.storage.models import Community

NOW = datetime(2026, 5, 1, 2, 0)


def test_passwords_are_stored_hashed(db) -> None:
    user = users.create_user(db, username="li", password="a-long-secret", role="staff", now=NOW)
    assert "a-long-secret" not in user.password_hash
    assert check_password_hash(user.password_hash, "a-long-secret")


@pytest.mark.parametrize("kwargs, error", [
    ({"role": "boss"}, users.InvalidUser),
    ({"password": "short"}, users.InvalidUser),
    ({"username": "  "}, users.InvalidUser),
    ({"department": "police"}, users.InvalidUser),
    ({"community": "no such community"}, NotFound),
])
def test_invalid_users_are_refused(db, kwargs: dict, error: type) -> None:
    args = {"username": "li", "password": "a-long-secret", "role": "staff", "now": NOW, **kwargs}
    with pytest.raises(error):
        users.create_user(db, **args)


def test_duplicate_username_is_refused(db) -> None:
    users.create_user(db, username="li", password="a-long-secret", role="staff", now=NOW)
    with pytest.raises(users.InvalidUser):
        users.create_user(db, username="li", password="another-secret", role="admin", now=NOW)


def test_end_sessions_moves_the_session_version_on(db) -> None:
    user = users.create_user(db, username="li", password="a-long-secret", role="staff", now=NOW)
    before = user.session_version
    users.end_sessions(user)
    assert user.session_version == before + 1


def test_unknown_user_is_refused_like_a_wrong_password(db) -> None:
    with pytest.raises(users.LoginRefused) as refused:
        users.authenticate(db, "nobody", "whatever")
    assert str(refused.value) == "wrong username or password"


def test_demo_admin_is_created_once(db) -> None:
    first = users.ensure_demo_admin(db, NOW)
    again = users.ensure_demo_admin(db, NOW)
    assert first.id == again.id and first.role == "admin"
    assert users.authenticate(db, "admin", "mulin-demo").id == first.id


def test_user_create_command_with_password(runner, db) -> None:
    db.add(Community(name="东社区"))
    db.commit()
    result = runner.invoke(args=["user", "create", "--username", "wang", "--role", "staff", "--department",
                                 "property", "--community", "东社区", "--password", "a-long-secret"])
    assert result.exit_code == 0, result.output
    user = users.authenticate(db, "wang", "a-long-secret")
    assert (user.role, user.department, user.community_id is not None) == ("staff", "property", True)


def test_user_create_command_prompts_for_the_password(runner, db) -> None:
    result = runner.invoke(args=["user", "create", "--username", "zhao", "--role", "admin"],
                           input="a-long-secret\na-long-secret\n")
    assert result.exit_code == 0, result.output
    assert "a-long-secret" not in result.output
    assert users.authenticate(db, "zhao", "a-long-secret").role == "admin"


def test_user_create_command_reports_errors(runner) -> None:
    result = runner.invoke(args=["user", "create", "--username", "x", "--role", "staff", "--password", "short"])
    assert result.exit_code != 0
    assert "密码至少需要 8 个字符" in result.output


def test_admins_get_no_department_or_community(db) -> None:
    with pytest.raises(users.InvalidUser):
        users.create_user(db, username="li", password="a-long-secret", role="admin", now=NOW, department="grid")


def test_user_edit_disable_enable_and_reset_password_commands(runner, db) -> None:
    db.add(Community(name="东社区"))
    users.create_user(db, username="wang", password="a-long-secret", role="admin", now=NOW)
    db.commit()
    result = runner.invoke(args=["user", "edit", "--username", "wang", "--role", "staff", "--department", "grid",
                                 "--community", "东社区"])
    assert result.exit_code == 0, result.output
    db.expire_all()
    user = users.find(db, "wang")
    assert (user.role, user.department, user.community_id is not None) == ("staff", "grid", True)
    assert runner.invoke(args=["user", "disable", "--username", "wang"]).exit_code == 0
    db.expire_all()
    with pytest.raises(users.LoginRefused):
        users.authenticate(db, "wang", "a-long-secret")
    assert runner.invoke(args=["user", "enable", "--username", "wang"]).exit_code == 0
    db.expire_all()
    assert users.authenticate(db, "wang", "a-long-secret").username == "wang"
    result = runner.invoke(args=["user", "reset-password", "--username", "wang"],
                           input="another-secret\nanother-secret\n")
    assert result.exit_code == 0 and "another-secret" not in result.output
    db.expire_all()
    assert users.authenticate(db, "wang", "another-secret").username == "wang"
    with pytest.raises(users.LoginRefused):
        users.authenticate(db, "wang", "a-long-secret")


@pytest.mark.parametrize("args, says", [
    (["user", "disable", "--username", "nobody"], "没有用户"),
    (["user", "reset-password", "--username", "wang", "--password", "short"], "密码至少需要"),
    (["user", "edit", "--username", "wang", "--role", "admin", "--department", "grid"], "管理员"),
])
def test_user_commands_report_errors(runner, db, args: list[str], says: str) -> None:
    users.create_user(db, username="wang", password="a-long-secret", role="staff", now=NOW)
    db.commit()
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and says in result.output
