"""Console users: hashed passwords, roles, and a lockout after repeated failed logins."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.errors import MulinError, NotFound
from bot.storage.models import Community, User
from bot.constants import CASE_DEPARTMENTS, Role

ROLES = tuple(Role)
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
DEMO_ADMIN = ("admin", "mulin-demo")


class InvalidUser(MulinError):
    """A user that cannot be created as asked."""


class LoginRefused(MulinError):
    """Wrong username or password, or a locked account; `locked` tells which."""

    def __init__(self, message: str, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


def find(session: Session, username: str) -> User | None:
    """The user with this username, if any."""
    return session.scalars(select(User).where(User.username == username.strip())).one_or_none()


def create_user(session: Session, *, username: str, password: str, role: str, now: datetime,
                department: str | None = None, community: str | None = None) -> User:
    """Add a user with a hashed password; staff may be limited to a department and a community."""
    if role not in ROLES:
        raise InvalidUser(f"role must be one of {', '.join(ROLES)}")
    if not username.strip():
        raise InvalidUser("the username is empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if department and department not in CASE_DEPARTMENTS:
        raise InvalidUser(f"unknown department {department}; use one of {', '.join(CASE_DEPARTMENTS)}")
    if find(session, username) is not None:
        raise InvalidUser(f"user {username} exists already")
    community_id = None
    if community:
        found = session.scalars(select(Community).where(Community.name == community)).one_or_none()
        if found is None:
            raise NotFound(f"no community named {community}")
        community_id = found.id
    user = User(username=username.strip(), password_hash=generate_password_hash(password), role=role,
                department=department or None, community_id=community_id, failed_logins=0, created_at=now)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str, now: datetime) -> User:
    """The user when the password is right and the account is not locked; counts failures (caller commits)."""
    user = find(session, username)
    if user is None:
        raise LoginRefused("wrong username or password")
    if user.locked_until is not None and user.locked_until > now:
        raise LoginRefused("account locked", locked=True)
    if not check_password_hash(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
            session.flush()
            raise LoginRefused("account locked", locked=True)
        session.flush()
        raise LoginRefused("wrong username or password")
    user.failed_logins, user.locked_until = 0, None
    session.flush()
    return user


def ensure_demo_admin(session: Session, now: datetime) -> User:
    """The demo admin ("admin" / "mulin-demo"), created if absent (demo data only)."""
    existing = find(session, DEMO_ADMIN[0])
    if existing is not None:
        return existing
    return create_user(session, username=DEMO_ADMIN[0], password=DEMO_ADMIN[1], role=Role.ADMIN, now=now)
