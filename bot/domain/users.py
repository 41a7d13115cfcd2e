"""Console users: hashed passwords, roles, and a session version that ends every session when bumped."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.errors import MulinError, NotFound
from bot.storage.models import Community, User
from bot.constants import CASE_DEPARTMENTS, Role

ROLES = tuple(Role)
MIN_PASSWORD_LENGTH = 8
DEMO_ADMIN = ("admin", "mulin-demo")
# Checked against when the username is unknown, so that an unknown name costs the same hash as a real one
# and the answer's timing tells nobody which usernames exist (same method and cost as real passwords).
_DUMMY_HASH = generate_password_hash("no user has this password")


class InvalidUser(MulinError):
    """A user that cannot be created as asked."""


class LoginRefused(MulinError):
    """Wrong username or password (which of the two is never told)."""


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
                department=department or None, community_id=community_id, session_version=0, created_at=now)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The user when the password is right; an unknown username costs the same password check."""
    user = find(session, username)
    if not check_password_hash(user.password_hash if user is not None else _DUMMY_HASH, password):
        raise LoginRefused("wrong username or password")
    if user is None:  # only if someone typed the dummy's password: still no such user
        raise LoginRefused("wrong username or password")
    return user


def end_sessions(user: User) -> None:
    """Every session of the user stops working (logout, a new password); the caller commits."""
    user.session_version = (user.session_version or 0) + 1


def ensure_demo_admin(session: Session, now: datetime) -> User:
    """The demo admin ("admin" / "mulin-demo"), created if absent (demo data only)."""
    existing = find(session, DEMO_ADMIN[0])
    if existing is not None:
        return existing
    return create_user(session, username=DEMO_ADMIN[0], password=DEMO_ADMIN[1], role=Role.ADMIN, now=now)
