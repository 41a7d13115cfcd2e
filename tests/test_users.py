"""Console users: hashed passwords, roles, lockout, the demo admin and the `user create` command."""
from __future__ import annotations

from datetime import datetime, timedelta

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


def test_lockout_after_repeated_failures(db) -> None:
    users.create_user(db, username="li", password="a-long-secret", role="staff", now=NOW)
    for _ in range(users.MAX_FAILED_LOGINS - 1):
        with pytest.raises(users.LoginRefused) as refused:
            users.authenticate(db, "li", "wrong", NOW)
        assert not refused.value.locked
    with pytest.raises(users.LoginRefused) as refused:
        users.authenticate(db, "li", "wrong", NOW)
    assert refused.value.locked
    with pytest.raises(users.LoginRefused) as refused:  # the right password does not help while locked
        users.authenticate(db, "li", "a-long-secret", NOW + timedelta(minutes=1))
    assert refused.value.locked
    later = NOW + users.LOCKOUT + timedelta(seconds=1)
    assert users.authenticate(db, "li", "a-long-secret", later).username == "li"


def test_unknown_user_is_refused_like_a_wrong_password(db) -> None:
    with pytest.raises(users.LoginRefused) as refused:
        users.authenticate(db, "nobody", "whatever", NOW)
    assert not refused.value.locked


def test_demo_admin_is_created_once(db) -> None:
    first = users.ensure_demo_admin(db, NOW)
    again = users.ensure_demo_admin(db, NOW)
    assert first.id == again.id and first.role == "admin"
    assert users.authenticate(db, "admin", "mulin-demo", NOW).id == first.id


def test_user_create_command_with_password(runner, db) -> None:
    db.add(Community(name="东社区"))
    db.commit()
    result = runner.invoke(args=["user", "create", "--username", "wang", "--role", "staff", "--department",
                                 "property", "--community", "东社区", "--password", "a-long-secret"])
    assert result.exit_code == 0, result.output
    user = users.authenticate(db, "wang", "a-long-secret", NOW)
    assert (user.role, user.department, user.community_id is not None) == ("staff", "property", True)


def test_user_create_command_prompts_for_the_password(runner, db) -> None:
    result = runner.invoke(args=["user", "create", "--username", "zhao", "--role", "admin"],
                           input="a-long-secret\na-long-secret\n")
    assert result.exit_code == 0, result.output
    assert "a-long-secret" not in result.output
    assert users.authenticate(db, "zhao", "a-long-secret", NOW).role == "admin"


def test_user_create_command_reports_errors(runner) -> None:
    result = runner.invoke(args=["user", "create", "--username", "x", "--role", "staff", "--password", "short"])
    assert result.exit_code != 0
    assert "密码至少需要 8 个字符" in result.output
