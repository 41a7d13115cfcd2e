"""Staff bind their WeChat themselves: a console user's one-time code, sent as "绑定 123456" to the account,
links the sender's openid to the user through the user's `Staff` row (the one list notifications go to).

The Staff row of a bound user mirrors the user: department and community are copied when they bind and
whenever an admin edits them (sync), and the row goes when the user is disabled. A user without a department
hears what the street's duty staff hear (community), an admin the weekly summary (admin).
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.constants import Department, Role
from bot.errors import MulinError
from bot.storage.models import InboundMessage, Staff, User

log = logging.getLogger(__name__)
DIGITS = 6
SCENE_PREFIX = "bind:"  # the console's QR code: a temporary parameter QR code whose scene is "bind:<code>"
MAX_TRIES_PER_HOUR = 5  # binding messages one WeChat account may send an hour (guessing a code is hopeless)


class BindRefused(MulinError):
    """A wrong or expired code, or too many tries; `reason` picks the resident-facing text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def issue_code(session: Session, user: User, now: datetime, minutes: float) -> str:
    """A new one-time code for the user (the previous one stops working), valid `minutes`; the caller commits."""
    while True:
        code = f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"
        holder = session.scalars(select(User).where(User.bind_code == code)).one_or_none()
        if holder is None or holder.id == user.id:
            break
        if holder.bind_code_expires_at is None or holder.bind_code_expires_at <= now:
            holder.bind_code = holder.bind_code_expires_at = None  # an expired code may be given out again
            session.flush()
            break
    user.bind_code, user.bind_code_expires_at = code, now + timedelta(minutes=minutes)
    session.flush()
    log.info("staff binding: console user %r was given a binding code", user.username)
    return code


def department_of(user: User) -> str:
    """Which notifications a bound user receives: their department's, else the duty staff's or the admins'."""
    return user.department or (Department.ADMIN if user.role == Role.ADMIN else Department.COMMUNITY)


def bound_openid(session: Session, user: User) -> str | None:
    """The WeChat account bound to the user, if any."""
    return session.scalars(select(Staff.openid).where(Staff.user_id == user.id).limit(1)).first()


def sync(session: Session, user: User, openid: str | None = None) -> None:
    """Make the user's Staff row match the user (a new openid when binding); none when disabled or unbound."""
    openid = openid or bound_openid(session, user)
    for row in session.scalars(select(Staff).where(Staff.user_id == user.id)).all():
        session.delete(row)
    session.flush()
    if openid is None or user.disabled:
        return
    department = department_of(user)
    found = session.scalars(select(Staff).where(  # one set up by import-staff for the same person and place
        Staff.openid == openid, Staff.department == department,
        Staff.community_id.is_(None) if user.community_id is None else Staff.community_id == user.community_id,
    )).first()
    row = found or Staff(name=user.username, openid=openid, department=department, community_id=user.community_id)
    session.add(row)
    row.user_id = user.id
    session.flush()


def bind(session: Session, openid: str, code: str, now: datetime) -> User:
    """Link the sender to the user whose unexpired code this is; BindRefused otherwise. Audited in the log."""
    tries = session.scalar(select(func.count()).select_from(InboundMessage).where(
        InboundMessage.openid == openid, InboundMessage.content.like("%绑定%"),
        InboundMessage.received_at > now - timedelta(hours=1))) or 0
    if tries > MAX_TRIES_PER_HOUR:
        log.warning("staff binding: refused, too many tries from one account")
        raise BindRefused("too_many")
    user = session.scalars(select(User).where(User.bind_code == code)).one_or_none() if code else None
    if user is None or user.disabled or user.bind_code_expires_at is None or user.bind_code_expires_at <= now:
        log.info("staff binding: refused a wrong or expired code")
        raise BindRefused("expired" if user is not None else "wrong")
    user.bind_code = user.bind_code_expires_at = None
    sync(session, user, openid)
    log.info("staff binding: console user %r bound a WeChat account (department %s)", user.username,
             department_of(user))
    return user


def unbind(session: Session, user: User) -> None:
    """The user's WeChat receives no more notifications; the caller commits."""
    rows = session.scalars(select(Staff).where(Staff.user_id == user.id)).all()
    for row in rows:
        session.delete(row)
    session.flush()
    if rows:
        log.info("staff binding: console user %r's WeChat account was unbound", user.username)
