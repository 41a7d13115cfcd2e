"""Replies to a cleanup notice (清理通知), from a resident it reached, within its window.

"好的，周末就挪走" is an acknowledgement: recorded against the notice, no case. "那我的电动车停哪" is a
question about the notice: it goes to the notice's community as a 其他诉求 case linked to the notice
(its staff are told, the resident is told who answers and by when), never a 楼道堆物 case with the
fire-safety advice. A complaint (other kinds of problem, 没人/一直/邻居 …, replies.yaml) goes on to intake,
and so do a chase or 物业不管 about an open case (their own routes follow).
"""
from __future__ import annotations

from datetime import timedelta

from bot.clock import fmt_local
from bot.constants import Department
from bot.domain import case_queries, notice_replies, residents
from bot.domain.case_notify import notify
from bot.domain.cases import add_event, create_case
from bot.domain.routing import Decision, decide, property_refused, situation
from bot.messaging.inbound import Inbound
from bot.messaging.texts import render_text
from bot.storage.models import Notice
from handlers.conversation import memory
from handlers.conversation.actions import CONTINUE
from handlers.conversation.context import Context
from handlers.conversation.states import ASKING_ADDRESS
from handlers.intents import FALLBACK
from handlers.understanding.replies import is_chase, notice_reply_hours, notice_reply_kind

ABOUT_THE_NOTICE = (FALLBACK, "clutter")  # what a reply to a hallway-cleanup notice may read as
MIN_ANSWER_TIME = timedelta(hours=1)


def check(msg: Inbound) -> bool:
    """Pure check: a short acknowledgement or question (the action looks for a notice that reached them)."""
    return notice_reply_kind(msg.text) is not None


def answer(ctx: Context, msg: Inbound) -> str | None:
    """Record an acknowledgement, or hand a question to the notice's community; else the next route."""
    text = msg.text or ""
    notice = notice_replies.reached(ctx.session, msg.openid, ctx.now, timedelta(hours=notice_reply_hours()))
    kind = notice_reply_kind(text)
    if notice is None or kind is None or memory.load(ctx, msg.openid).name in ASKING_ADDRESS:
        return CONTINUE  # an open question of the dialogue ("是这个地址吗？" — "好的") is answered first
    if (is_chase(text) or property_refused(text)) and case_queries.latest_open(ctx.session, msg.openid):
        return CONTINUE  # about the resident's open case, not the notice
    c = ctx.classifier.classify(text)
    if c.terms and c.intent not in ABOUT_THE_NOTICE:
        return CONTINUE  # another problem: a report as usual
    date = fmt_local(notice.cleanup_at)
    if kind == notice_replies.ACK:
        notice_replies.record(ctx.session, notice, msg.openid, notice_replies.ACK, text, ctx.now)
        return render_text("notice/ack", date=date)
    return _question(ctx, msg.openid, notice, text, date)


def _question(ctx: Context, openid: str, notice: Notice, text: str, date: str) -> str:
    """A 其他诉求 case for the notice's community, due before the cleanup where there is time; a further question
    ("那我放哪儿啊") joins the resident's open one, and its staff are told."""
    community = notice.target.get("community") or ""
    asked = notice_replies.open_question_case(ctx.session, notice, openid)
    if asked is not None:
        event = add_event(ctx.session, asked, "notice_question", actor="resident", now=ctx.now, note=text,
                          data={"notice_id": notice.id})
        notice_replies.record(ctx.session, notice, openid, notice_replies.QUESTION, text, ctx.now, case_id=asked.id)
        notify(ctx.session, asked, asked.department, ctx.now, f"question-{event.id}", note=text)
        return render_text("notice/question_added", case=asked, community=community, due=fmt_local(asked.due_at))
    resident = residents.get_or_create(ctx.session, openid, ctx.now)
    rule = decide(FALLBACK, ctx.classifier.spec(FALLBACK).priority, situation(resident.building))
    before_cleanup = notice.cleanup_at - ctx.now
    limit = min(rule.time_limit, before_cleanup) if before_cleanup >= MIN_ANSWER_TIME else rule.time_limit
    case = create_case(ctx.session, openid=openid, text=render_text("notice/question_case", date=date, text=text),
                       intent=FALLBACK, priority=ctx.classifier.spec(FALLBACK).priority, also=(),
                       resident=resident, now=ctx.now, decision=Decision(Department.COMMUNITY, limit, ()))
    add_event(ctx.session, case, "notice_question", actor="resident", now=ctx.now, note=text,
              data={"notice_id": notice.id})
    notice_replies.record(ctx.session, notice, openid, notice_replies.QUESTION, text, ctx.now, case_id=case.id)
    return render_text("notice/question", case=case, community=community,
                       due=fmt_local(case.due_at), date=date)
