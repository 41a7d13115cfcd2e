"""Subscription notices (订阅通知): who accepted which template, from WeChat's subscribe_msg_* events.

A resident accepts or rejects a template in WeChat's pop-up (subscribe_msg_popup_event) and may change
it later in the account's settings (subscribe_msg_change_event). The latest answer per template is kept;
the outbox sends a subscription notice only to a resident whose answer is `accept`.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.storage.db import dialect_upsert
from bot.storage.models import Subscription, table_of

EVENTS = ("subscribe_msg_popup_event", "subscribe_msg_change_event")
ACCEPT = "accept"
TABLE = table_of(Subscription)
_ACCEPTED = select(TABLE.c.id).where(TABLE.c.openid == bindparam("openid"),
                                     TABLE.c.template_id == bindparam("template_id"), TABLE.c.status == ACCEPT)


def record(session: Session, openid: str, changes: list[tuple[str, str]], now: datetime) -> int:
    """Keep each (template_id, accept|reject) as the resident's latest answer; part of the caller's transaction."""
    upsert = dialect_upsert(session, TABLE, ("openid", "template_id"), ("status", "updated_at"))
    for template_id, status in changes:
        session.connection().execute(upsert, {"openid": openid, "template_id": template_id, "status": status,
                                              "updated_at": now})
    return len(changes)


def accepted(session: Session, openid: str, template_id: str) -> bool:
    """Whether the resident's latest answer for this template is accept."""
    found = session.connection().execute(_ACCEPTED, {"openid": openid, "template_id": template_id}).first()
    return found is not None


def withdrawn(session: Session, openid: str, template_id: str, now: datetime) -> None:
    """WeChat refused a subscription notice (43101: not subscribed any more): stop choosing that channel."""
    record(session, openid, [(template_id, "reject")], now)
