"""WeChat's delivery receipts: TEMPLATESENDJOBFINISH (template messages) and subscribe_msg_sent_event
(subscription notices) tell, by msgid, whether a message WeChat accepted reached the resident.

The template send and bizsend answer with a msgid, kept on the outbox row; a receipt sets that row's
`receipt` (delivered, blocked by the user, system failure). WeChat may push the receipt before the send's
msgid is committed: such a receipt is kept (early_receipts) and set by the scheduler's next pass. The event
itself is stored and de-duplicated like every push (FromUserName + CreateTime), and setting the same receipt
twice changes nothing.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from bot.constants import DeliveryState, OutboxStatus, Receipt
from bot.messaging.texts import render_text
from bot.storage.db import dialect_upsert
from bot.storage.models import EarlyReceipt, Outbox, table_of

TEMPLATE_EVENT = "templatesendjobfinish"  # events are lowercased (bot.messaging.inbound)
SUBSCRIBE_EVENT = "subscribe_msg_sent_event"
EVENTS = (TEMPLATE_EVENT, SUBSCRIBE_EVENT)
SENT_LIST = "SentList"  # raw's flat copy (JSON) of a subscribe_msg_sent_event's nested <List> items
UNREACHABLE = "not reachable"  # how the outbox's error starts when no channel is left (told apart in `reason`)
USER_BLOCK_CODES = {43101}  # subscription notices: the resident refuses them
EARLY_KEEP = timedelta(days=1)  # how long a receipt that matches no send yet waits for its msgid
_TABLE = table_of(Outbox)
_SET = (update(_TABLE).where(_TABLE.c.msgid == bindparam("msg_id"), _TABLE.c.openid == bindparam("to"),
                             _TABLE.c.status == OutboxStatus.SENT)
        .values(receipt=bindparam("value")))


def of_status(status: str, errcode: int | None = None) -> Receipt:
    """WeChat's Status / ErrorStatus ("success", "failed:user block", "failed: system failed") as a Receipt."""
    text = " ".join(status.lower().split())
    if text == "success" or (not text and errcode == 0):
        return Receipt.DELIVERED
    if "user block" in text or errcode in USER_BLOCK_CODES:
        return Receipt.USER_BLOCK
    return Receipt.SYSTEM_FAILED


def sent_list(data: dict[str, Any]) -> str | None:
    """The (msgid, errcode, status) items of a subscribe_msg_sent_event as JSON (one item comes as a dict)."""
    block = data.get("SubscribeMsgSentEvent")
    items = block.get("List") if isinstance(block, dict) else None
    found = []
    for item in items if isinstance(items, list) else [items] if isinstance(items, dict) else []:
        msg_id = str(item.get("MsgID") or item.get("MsgId") or "")
        code = str(item.get("ErrorCode") or "")
        if msg_id and len(msg_id) <= 32:
            found.append([msg_id, int(code) if code.isascii() and code.isdigit() else None,
                          str(item.get("ErrorStatus") or "")[:64]])
    return json.dumps(found) if found else None


def of_event(raw: dict[str, Any], event: str | None) -> list[tuple[str, Receipt]]:
    """The (msgid, receipt) pairs a receipt event carries; [] for any other push."""
    if event == TEMPLATE_EVENT:
        msg_id = str(raw.get("MsgID") or raw.get("MsgId") or "")
        return [(msg_id, of_status(str(raw.get("Status") or "")))] if msg_id else []
    if event == SUBSCRIBE_EVENT:
        items = json.loads(str(raw.get(SENT_LIST) or "[]"))
        return [(str(msg_id), of_status(status, code)) for msg_id, code, status in items]
    return []


def record(session: Session, openid: str, receipts: list[tuple[str, Receipt]], now: datetime | None = None) -> int:
    """Set each receipt on the resident's sent row with that msgid; part of the caller's transaction.
    Returns how many rows it matched. A receipt that matches no row yet (WeChat can answer before the send's
    msgid is committed) is kept in early_receipts when `now` is given, for apply_early."""
    matched = 0
    for msg_id, value in receipts:
        result = session.connection().execute(_SET, {"msg_id": msg_id, "to": openid, "value": value})
        found = int(getattr(result, "rowcount", 0) or 0)
        matched += found
        if not found and now is not None:
            session.connection().execute(dialect_upsert(session, table_of(EarlyReceipt), ("msgid",), ("receipt",)),
                                         {"msgid": msg_id, "openid": openid, "receipt": value, "received_at": now})
    return matched


def apply_early(session: Session, now: datetime, limit: int = 500) -> dict[str, int]:
    """Set the kept early receipts on their sends, now that the msgids are stored; drop those still unmatched
    after EARLY_KEEP (a msgid Mulin never sent, e.g. one from WeChat's own pages). Commits."""
    early = session.execute(select(EarlyReceipt.id, EarlyReceipt.msgid, EarlyReceipt.openid, EarlyReceipt.receipt,
                                   EarlyReceipt.received_at).order_by(EarlyReceipt.id).limit(limit)).all()
    applied, dropped, done = 0, 0, []
    for row in early:
        result = session.connection().execute(_SET, {"msg_id": row.msgid, "to": row.openid, "value": row.receipt})
        if int(getattr(result, "rowcount", 0) or 0):
            applied += 1
            done.append(row.id)
        elif row.received_at < now - EARLY_KEEP:
            dropped += 1
            done.append(row.id)
    if done:
        session.execute(delete(EarlyReceipt).where(EarlyReceipt.id.in_(done)))
    session.commit()
    return {"applied": applied, "dropped": dropped, "waiting": len(early) - len(done)}


def msgid_of(answer: dict[str, Any] | None) -> str | None:
    """The msgid WeChat's answer to a template send or bizsend carries (None when it has none)."""
    value = (answer or {}).get("msgid")
    return str(value)[:32] if value not in (None, "") else None


_BY_STATUS: dict[str, DeliveryState] = {
    OutboxStatus.PENDING: DeliveryState.PENDING, OutboxStatus.SENDING: DeliveryState.PENDING,
    OutboxStatus.FAILED: DeliveryState.FAILED, OutboxStatus.UNCERTAIN: DeliveryState.UNCERTAIN,
    OutboxStatus.CANCELLED: DeliveryState.CANCELLED}


def state_of(status: str, channel: str | None, receipt: str | None) -> DeliveryState:
    """One outbox row's delivery state: a sent customer-service message is delivered (WeChat sends no
    receipt for it); a template message or subscription notice is queued at WeChat until its receipt."""
    if status != OutboxStatus.SENT:
        return _BY_STATUS.get(status, DeliveryState.PENDING)
    if receipt in (Receipt.USER_BLOCK, Receipt.SYSTEM_FAILED):
        return DeliveryState.FAILED
    if receipt == Receipt.DELIVERED or channel == "custom":
        return DeliveryState.DELIVERED
    return DeliveryState.QUEUED


def reason(errcode: int | None, error: str | None, receipt: str | None) -> str:
    """Why a message did not reach the resident, in Chinese (templates/text/outbox/reason.txt)."""
    unreachable = errcode is None and (error or "").startswith(UNREACHABLE)
    return render_text("outbox/reason", receipt=receipt, code=errcode, unreachable=unreachable,
                       network=errcode is None and not unreachable)
