"""A resident's answer to a satisfaction follow-up: 1/2/3, 满意/基本满意/不满意, or 没解决.

The check is pure (does the message read like an answer?); the action finds the case the
resident was asked about. With no question pending the message goes on to intake.
不满意 or 没解决 reopens the case (transition tells the department and the resident);
满意 and 基本满意 close it.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.constants import AWAITING_ANSWER, DONE_STATUSES, CaseStatus, FollowupState, Satisfaction
from bot.domain.cases import add_event, transition
from bot.messaging.inbound import Inbound
from bot.messaging.texts import render_text
from bot.storage.models import Case
from handlers.conversation.actions import CONTINUE
from handlers.conversation.context import Context

SATISFIED, BASIC, UNSATISFIED = Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.UNSATISFIED
DIGITS = {"1": SATISFIED, "2": BASIC, "3": UNSATISFIED}
NOT_SOLVED = ("没解决", "未解决", "没有解决", "还没解决")
MAX_CHARS = 12  # a longer message is a new report, even if it mentions 满意

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def parse(text: str | None) -> tuple[str, bool | None] | None:
    """(satisfaction, solved) of an answer, or None when the text is not one."""
    words = _PUNCT.sub("", (text or "").translate({0xFF11: "1", 0xFF12: "2", 0xFF13: "3"}))
    if not words or len(words) > MAX_CHARS:
        return None
    if words in DIGITS:
        return DIGITS[words], (True if words != "3" else None)
    if any(w in words for w in NOT_SOLVED):
        return UNSATISFIED, False
    for level in (UNSATISFIED, BASIC, SATISFIED):
        if level in words:
            return level, (None if level == UNSATISFIED else True)
    return None


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


def answer(ctx: Context, msg: Inbound) -> str | None:
    """Record the answer on the asked case; reopen it if unsatisfied or not solved."""
    session, now = ctx.session, ctx.now
    parsed = parse(msg.text)
    case = pending_case(session, msg.openid) if parsed else None
    if case is None or parsed is None:
        return CONTINUE
    satisfaction, solved = parsed
    case.satisfaction, case.solved, case.followup_state = satisfaction, solved, FollowupState.ANSWERED
    add_event(session, case, "followup_answer", actor="resident", now=now, note=msg.text,
              data={"satisfaction": satisfaction, "solved": solved})
    if satisfaction == UNSATISFIED or solved is False:
        transition(session, case, "reopen", actor="resident", now=now, note=msg.text)
        return render_text("followup/reopened", case=case, satisfaction=satisfaction, solved=solved)
    if case.status == CaseStatus.RESOLVED:
        transition(session, case, "close", actor="resident", now=now)
    return render_text("followup/thanks", case=case, satisfaction=satisfaction)
