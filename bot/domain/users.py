"""Console users: hashed passwords, roles, and a session version that ends every session when bumped."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.constants import CASE_DEPARTMENTS, Role
from bot.domain import staff_binding
from bot.errors import InvalidUser, MulinError, NotFound
from bot.storage.models import Case, Community, User

ROLES = tuple(Role)
MIN_PASSWORD_LENGTH = 8
DEMO_ADMIN = ("admin", "mulin-demo")
# Checked against when the username is unknown, so that an unknown name costs the same hash as a real one
# and the answer's timing tells nobody which usernames exist (same method and cost as real passwords).
_DUMMY_HASH = generate_password_hash("no user has this password")


class LoginRefused(MulinError):
    """Wrong username or password (which of the two is never told)."""


def find(session: Session, username: str) -> User | None:
    """The user with this username, if any."""
    return session.scalars(select(User).where(User.username == username.strip())).one_or_none()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser("password_short", length=MIN_PASSWORD_LENGTH)


def _scope(session: Session, role: str, department: str | None, community: str | None) -> int | None:
    """Check a role and its limits; the community's id. Admins see everything, so limits on one are a mistake."""
    if role not in ROLES:
        raise InvalidUser("role_unknown", roles="、".join(ROLES))
    if role == Role.ADMIN and (department or community):
        raise InvalidUser("admin_limited")
    if department and department not in CASE_DEPARTMENTS:
        raise InvalidUser("department_unknown", department=department, departments="、".join(CASE_DEPARTMENTS))
    if not community:
        return None
    found = session.scalars(select(Community).where(Community.name == community)).one_or_none()
    if found is None:
        raise NotFound("community_not_found", name=community)
    return found.id


def create_user(session: Session, *, username: str, password: str, role: str, now: datetime,
                department: str | None = None, community: str | None = None) -> User:
    """Add a user with a hashed password; staff may be limited to a department and a community."""
    if not username.strip():
        raise InvalidUser("username_empty")
    _check_password(password)
    community_id = _scope(session, role, department, community)
    if find(session, username) is not None:
        raise InvalidUser("user_exists", username=username.strip())
    user = User(username=username.strip(), password_hash=generate_password_hash(password), role=role,
                department=department or None, community_id=community_id, session_version=0, disabled=False,
                created_at=now)
    session.add(user)
    session.flush()
    return user


def colleagues(session: Session, case: Case) -> list[User]:
    """The active users who may see the case (its department's and community's staff, unlimited staff,
    admins): whom it may be assigned to, by name."""
    query = select(User).where(User.disabled.is_(False)).order_by(User.username)
    return [u for u in session.scalars(query)
            if u.role == Role.ADMIN or ((not u.department or u.department == case.department)
                                        and (u.community_id is None or u.community_id == case.community_id))]


def get(session: Session, username: str) -> User:
    """The user with this username; NotFound otherwise."""
    user = find(session, username)
    if user is None:
        raise NotFound("user_not_found", username=username)
    return user


def edit_user(session: Session, user: User, *, role: str, department: str | None,
              community: str | None) -> None:
    """Change the role and limits; the user's sessions end, so the new scope applies at once."""
    user.community_id = _scope(session, role, department, community)
    user.role, user.department = role, department or None
    end_sessions(user)
    session.flush()
    staff_binding.sync(session, user)  # a bound WeChat now hears of the new department's and community's cases


def set_disabled(user: User, disabled: bool) -> None:
    """Disable (sessions end, logins refused, the bound WeChat hears nothing more) or enable again; the caller
    commits. Enabling again does not bind again: the user sends a new code."""
    user.disabled = disabled
    end_sessions(user)
    session = object_session(user)
    if disabled and session is not None:
        staff_binding.unbind(session, user)


def reset_password(user: User, password: str) -> None:
    """A new password; every session of the user ends."""
    _check_password(password)
    user.password_hash = generate_password_hash(password)
    end_sessions(user)


def authenticate(session: Session, username: str, password: str) -> User:
    """The user when the password is right; an unknown username costs the same password check."""
    user = find(session, username)
    if not check_password_hash(user.password_hash if user is not None else _DUMMY_HASH, password):
        raise LoginRefused("wrong username or password")
    if user is None or user.disabled:  # a disabled user is refused like a wrong password
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
