"""A resident's answer to a satisfaction follow-up: 1/2/3, or in own words (replies.yaml).

The check is pure (does the message read like an answer?); the action finds the case the
resident was asked about. With no question pending the message goes on to intake.
不满意 or 没解决 ("没弄好，昨天夜里又滴水了", "还是漏") reopens the *same* case with the resident's
words as the reason (transition tells the department and the resident); 满意 and 基本满意 close it.

The boundary with a new report: a reply that names a problem of another kind than the asked case
("楼道里又堆满了纸箱子，没人管") and gives no explicit rating (a digit, 满意/基本满意/不满意) is a new
report, not an answer; with an explicit rating it is both: the rating is recorded and what follows 不过/但是
reported ("漏水修好了挺满意，不过厨房最近有蟑螂"); praise in a message longer than replies.yaml's
satisfaction_max_chars is no rating
(没解决 and 不满意 count at any length: a long account of the same leak still reopens the same case).
"""
from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.constants import AWAITING_ANSWER, DONE_STATUSES, CaseStatus, FollowupState, Satisfaction
from bot.domain.cases import add_event, transition
from bot.messaging.inbound import Inbound
from bot.messaging.texts import render_text
from bot.storage.models import Case
from handlers.conversation import dialogue
from handlers.conversation.actions import CONTINUE
from handlers.conversation.context import Context
from handlers.intents import FALLBACK
from handlers.understanding.replies import satisfaction_of, split_turn

SATISFIED, BASIC, UNSATISFIED = Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.UNSATISFIED
DIGITS = {"1": SATISFIED, "2": BASIC, "3": UNSATISFIED}
RATINGS = (UNSATISFIED, BASIC, SATISFIED)  # the words of the question itself, longest first

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def _words(text: str | None) -> str:
    return _PUNCT.sub("", (text or "").translate({0xFF11: "1", 0xFF12: "2", 0xFF13: "3"}))


def explicit(text: str | None) -> bool:
    """Whether the message rates in the question's own terms (a digit, 满意, 基本满意, 不满意)."""
    words = _words(text)
    return words in DIGITS or any(level in words for level in RATINGS)


def parse(text: str | None) -> tuple[str, bool | None] | None:
    """(satisfaction, solved) of an answer, or None when the text is not one."""
    words = _words(text)
    if words in DIGITS:
        return DIGITS[words], (True if words != "3" else None)
    return satisfaction_of(text)


def check(msg: Inbound) -> bool:
    """Pure check: the message reads like a follow-up answer."""
    return parse(msg.text) is not None


def pending_case(session: Session, openid: str) -> Case | None:
    """The case this resident was last asked about and has not answered."""
    return session.scalars(
        select(Case).where(Case.openid == openid, Case.followup_state.in_(AWAITING_ANSWER),
                           Case.status.in_(DONE_STATUSES))
        .order_by(Case.followup_asked_at.desc(), Case.id.desc()).limit(1)
    ).first()


def _other_problem(ctx: Context, case: Case, text: str) -> bool:
    """The reply names a problem of another kind than the asked case."""
    c = ctx.classifier.classify(text)
    return bool(c.terms) and c.intent not in (FALLBACK, case.intent)


def _turned_to(ctx: Context, case: Case, text: str) -> tuple[tuple[str, bool | None], str] | None:
    """(the rating, the new problem) of a reply that rates before 不过/但是 and goes on to a problem of
    another kind ("修好了，但是楼道里又堆满了"); None otherwise."""
    split = split_turn(text)
    if split is None:
        return None
    rating = parse(split[0])
    return (rating, split[1]) if rating is not None and _other_problem(ctx, case, split[1]) else None


def _new_problem(ctx: Context, case: Case, text: str) -> bool:
    """The reply names a problem of another kind than the asked case, and rates nothing explicitly."""
    return _other_problem(ctx, case, text) and not explicit(text)


def answer(ctx: Context, msg: Inbound) -> str | None:
    """Record the answer on the asked case; reopen it if unsatisfied or not solved."""
    session, now = ctx.session, ctx.now
    parsed = parse(msg.text)
    case = pending_case(session, msg.openid) if parsed or split_turn(msg.text) else None
    if case is None:
        return CONTINUE
    turned = _turned_to(ctx, case, msg.text or "")
    if turned is not None:  # the rating is what comes before 不过/但是; the rest is a new report
        parsed = turned[0]
    elif parsed is None or _new_problem(ctx, case, msg.text or ""):
        return CONTINUE
    satisfaction, solved = parsed
    case.satisfaction, case.solved, case.followup_state = satisfaction, solved, FollowupState.ANSWERED
    add_event(session, case, "followup_answer", actor="resident", now=now, note=msg.text,
              data={"satisfaction": satisfaction, "solved": solved})
    more = turned[1] if turned is not None else None  # "修好了，但是楼道里又堆满了": rated, and a new report
    if satisfaction == UNSATISFIED or solved is False:
        reason = None if _words(msg.text) in DIGITS or _words(msg.text) in RATINGS else msg.text
        transition(session, case, "reopen", actor="resident", now=now, note=msg.text)
        reply = render_text("followup/reopened", case=case, satisfaction=satisfaction, solved=solved, reason=reason)
    else:
        if case.status == CaseStatus.RESOLVED:
            transition(session, case, "close", actor="resident", now=now)
        reply = render_text("followup/thanks", case=case, satisfaction=satisfaction, more=bool(more))
    return reply + "\n\n" + (dialogue.step(ctx, replace(msg, content=more)) or "") if more else reply
