"""Who may see what: the logged-in user, role checks and the staff's case scope."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Any, Callable, TypeVar, cast, TypeVarTuple, Unpack

from flask import abort
import flask_login
from flask_login import UserMixin, current_user
from sqlalchemy import Select, or_, select

from bot.constants import Role
from bot.web.request_session import get_db
from bot.storage.models import Case, Compound, Resident, User


View = TypeVar("View", bound=Callable[..., Any])
Rows = TypeVarTuple("Rows")


def login_required(view: View) -> View:
    """Flask-Login's login_required, typed (Flask-Login ships no type hints)."""
    return cast(View, flask_login.login_required(view))


@dataclass
class ConsoleUser(UserMixin):  # type: ignore[misc]  # UserMixin is untyped
    """The logged-in user as the console sees it (loaded from the database on each request)."""

    id: int
    username: str
    role: str
    department: str | None
    community_id: int | None
    session_version: int = 0

    @classmethod
    def of(cls, user: User) -> ConsoleUser:
        """Wrap a stored user."""
        return cls(user.id, user.username, user.role, user.department, user.community_id,
                   user.session_version or 0)

    def get_id(self) -> str:
        """What the session cookie keeps: the id and the session version ("7.2"); see load_user."""
        return f"{self.id}.{self.session_version}"

    @property
    def is_admin(self) -> bool:
        """Admins see every case and manage users."""
        return self.role == Role.ADMIN

    @property
    def sees_everything(self) -> bool:
        """Admins, and staff limited to neither a department nor a community."""
        return self.is_admin or (not self.department and self.community_id is None)


def load_user(user_id: str) -> ConsoleUser | None:
    """Flask-Login's loader: the stored user while the cookie's session version is the user's current one
    (logging out bumps it, so a copied cookie stops working); None otherwise."""
    number, _, version = user_id.partition(".")
    if not number.isdigit() or not version.isdigit():
        return None
    user = get_db().get(User, int(number))
    if user is None or user.disabled or (user.session_version or 0) != int(version):
        return None
    return ConsoleUser.of(user)


def scope_cases(query: Select[Unpack[Rows]], user: ConsoleUser) -> Select[Unpack[Rows]]:
    """Limit a case query to what the user may see: staff get their department and community."""
    if user.is_admin:
        return query
    if user.department:
        query = query.where(Case.department == user.department)
    if user.community_id is not None:
        query = query.where(Case.community_id == user.community_id)
    return query


def scope_residents(query: Select[Any], user: ConsoleUser) -> Select[Any]:
    """Limit a resident query to the user's: those living in their community, or with a case they may see."""
    if user.sees_everything:
        return query
    reach = [Resident.openid.in_(scope_cases(select(Case.openid), user))]
    if user.community_id is not None:
        reach.append(Resident.compound_id.in_(select(Compound.id).where(Compound.community_id == user.community_id)))
    return query.where(or_(*reach))


def may_see(case: Case, user: ConsoleUser) -> bool:
    """Whether the user may see and act on the case."""
    if user.is_admin:
        return True
    if user.department and case.department != user.department:
        return False
    return user.community_id is None or case.community_id == user.community_id


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) a view to anyone but admins."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def mask_phone(phone: str | None) -> str:
    """A phone number for lists: 138****5678."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]
