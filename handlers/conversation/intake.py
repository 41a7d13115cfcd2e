"""Intake: a resident's report becomes a routed case at once, or after Mulin has the address.

Judgement on `other` (documented in the issue's spirit): a message the classifier reads as
an update ("已经修好了", a resolved cue) or a short courtesy ("谢谢", "好的") joins the
resident's open case instead of opening a new one; with no open case, thanks alone get a
polite answer and no case; anything else that is `other` becomes a case for the community.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from flask import current_app

from bot.domain import case_queries, residents
from bot.domain.cases import add_event, create_case
from bot.clock import fmt_local
from bot.constants import OPEN_STATUSES
from bot.messaging.inbound import Inbound
from bot.storage.models import Case, Resident
from bot.messaging.texts import label, lines, render_text
from handlers.understanding.classifier import Classification
from handlers.conversation.dialogue import Step
from handlers.intents import FALLBACK
from handlers.understanding.words import is_courtesy
from bot.services import services

COURTESY_MAX_CHARS = 8  # a short `other` with no keyword joins an open case rather than opening one


def _pending(msg: Inbound, c: Classification) -> dict[str, Any]:
    return {"text": msg.text, "intent": c.intent, "priority": c.priority, "also": list(c.also),
            "safety": c.safety, "media": media_of(msg)}


def media_of(msg: Inbound) -> list[dict[str, Any]]:
    """The photo, voice or video a message carries, as stored on a case."""
    if msg.msg_type in ("image", "voice", "video", "shortvideo"):
        return [{"kind": msg.msg_type, "MediaId": msg.media_id, "PicUrl": msg.raw.get("PicUrl")}]
    return []


def _is_update(c: Classification, text: str) -> bool:
    """`other` that reads as news about a case: a resolved cue, or a short courtesy."""
    resolved = not c.terms and c.scores.get(FALLBACK, 0) > 0
    short = not c.terms and len(text) <= COURTESY_MAX_CHARS
    return c.intent == FALLBACK and (resolved or short or is_courtesy(text))


def report(session: Session, msg: Inbound, now: datetime, data: dict[str, Any]) -> Step:
    """A new message with no open question: classify, then open (or join) a case or ask the address."""
    c = services(current_app).classifier.classify(msg.text or "")
    if _is_update(c, msg.text or ""):
        case = case_queries.latest_open(session, msg.openid)
        if case is not None:
            add_event(session, case, "message", actor="resident", now=now, note=msg.text)
            return Step(render_text("intake/update_added", case=case), "details", {"case_id": case.id})
        if is_courtesy(msg.text):
            return Step(render_text("intake/courtesy"), data=data)
    resident = residents.get_or_create(session, msg.openid, now)
    pending = _pending(msg, c)
    if resident.building_id is None:
        keep = {k: v for k, v in data.items() if k in ("hint", "hint_sure")}
        return Step(render_text("intake/ask_address", intent=label("intent", c.intent),
                                safety=render_text(c.safety) if c.safety else ""),
                    "await_address", {**keep, "pending": pending})
    return open_report(session, resident, pending, now)


def open_report(session: Session, resident: Resident, pending: dict[str, Any], now: datetime) -> Step:
    """Join the resident's open case of the same intent (24 h) or create a case; reply with what's next."""
    case = case_queries.duplicate_of(session, resident.openid, pending["intent"], now)
    if case is not None:
        add_event(session, case, "message", actor="resident", now=now, note=pending["text"])
        attach_media(session, case, pending.get("media") or [], now)
        return Step(render_text("intake/joined", case=case, status=label("status", case.status)),
                    "details", {"case_id": case.id})
    case = create_case(session, openid=resident.openid, text=pending["text"], intent=pending["intent"],
                       priority=pending["priority"], also=tuple(pending.get("also") or ()),
                       resident=resident, now=now)
    attach_media(session, case, pending.get("media") or [], now)
    spec = services(current_app).classifier.spec(case.intent)
    safety = pending.get("safety") or spec.safety
    hours = round((case.due_at - case.created_at).total_seconds() / 3600)
    reply = render_text("intake/created", case=case, department=label("department", case.department),
                        hours=hours, due=fmt_local(case.due_at), safety=render_text(safety) if safety else "",
                        questions=spec.questions or lines(f"questions/{case.intent}"), other=case.intent == FALLBACK)
    return Step(reply, "details", {"case_id": case.id})


def attach_media(session: Session, case: Case, media: list[dict[str, Any]], now: datetime) -> None:
    """Record photos, voice and video on the case (MediaId and PicUrl, as WeChat sent them)."""
    for item in media:
        kind = "photo" if item.get("kind") == "image" else item.get("kind", "photo")
        add_event(session, case, kind, actor="resident", now=now,
                  data={"MediaId": item.get("MediaId"), "PicUrl": item.get("PicUrl")})


def detail(session: Session, msg: Inbound, now: datetime, data: dict[str, Any]) -> Step:
    """After a report: more words about the same case are added to it; a new problem starts over."""
    case = session.get(Case, data.get("case_id") or 0)
    c = services(current_app).classifier.classify(msg.text or "")
    same = c.intent == FALLBACK and not c.terms or case is not None and c.intent == case.intent
    if case is None or case.status not in OPEN_STATUSES or not same:
        return report(session, msg, now, {})
    add_event(session, case, "detail", actor="resident", now=now, note=msg.text)
    attach_media(session, case, media_of(msg), now)
    return Step(render_text("intake/detail_added", case=case), "details", data)


def to_person(session: Session, msg: Inbound, now: datetime, data: dict[str, Any]) -> Step:
    """After 人工: the bot stops asking; messages go to the case for the staff member."""
    case = session.get(Case, data.get("case_id") or 0)
    if case is None or case.status not in OPEN_STATUSES:
        return report(session, msg, now, {})
    add_event(session, case, "message", actor="resident", now=now, note=msg.text)
    attach_media(session, case, media_of(msg), now)
    return Step(render_text("intake/handoff_note", case=case), "handoff", data)
