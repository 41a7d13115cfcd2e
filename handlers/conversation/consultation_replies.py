"""A resident's answer to an open consultation: "1", "选2", "第二项", or an option's text ("同意").

The check is pure (is the message short enough to be an answer?); the action looks for an open
consultation put to this resident and reads the answer against its options. A number outside
the options gets a polite hint; anything else goes on to the next route, so a resident's other
messages during a consultation are handled as usual. When a satisfaction follow-up was asked
after the consultation, a bare number answers the follow-up (the latest question wins).
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from bot.clock import fmt_local
from bot.domain import consultations, residents
from bot.messaging.inbound import Inbound
from bot.messaging.texts import render_text
from handlers.conversation import followup
from handlers.conversation.actions import CONTINUE
from handlers.conversation.context import Context

MAX_CHARS = 24  # a longer message is not an answer, even if it names an option
NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_PREFIX = re.compile(r"^(?:我们|我家|我)?(?:选择|选|投|支持|赞成)?(?:第)?")
_NUMBER = re.compile(r"^([0-9]{1,2}|[一二两三四五六七八九十])(?:号|项|个|票|条)?$")
_FULLWIDTH = {0xFF10 + i: str(i) for i in range(10)}


def _words(text: str | None) -> str:
    return _PUNCT.sub("", (text or "").translate(_FULLWIDTH))


def parse(text: str | None, options: list[str]) -> int | None:
    """The option number the text names (possibly out of range, e.g. 0 or 7), or None when it names none."""
    words = _words(text)
    if not words or len(words) > MAX_CHARS:
        return None
    texts = [_words(o) for o in options]
    if words in texts:  # before stripping a prefix: an option may itself start with 支持 or 我
        return texts.index(words) + 1
    rest = _PREFIX.sub("", words, count=1)
    if rest in texts:
        return texts.index(rest) + 1
    number = _NUMBER.match(rest)
    if number is None:
        return None
    digits = number.group(1)
    return int(digits) if digits.isdigit() else NUMERALS[digits]


def check(msg: Inbound) -> bool:
    """Pure check: the message is short enough to be an answer."""
    return bool(msg.text) and len(_words(msg.text)) <= MAX_CHARS


def _followup_is_newer(session: Session, openid: str, asked_at: datetime) -> bool:
    case = followup.pending_case(session, openid)
    return bool(case and case.followup_asked_at and case.followup_asked_at > asked_at)


def reply_to(session: Session, openid: str, text: str, now: datetime) -> str | None:
    """Record an answer to the open consultation put to this resident; None when the text is not one."""
    found = consultations.asked(session, openid, now)
    if found is None:
        return None
    consultation, asked_at = found
    choice = parse(text, list(consultation.options))
    if choice is None:
        return None
    if followup.parse(text) is not None and _followup_is_newer(session, openid, asked_at):
        return None
    if not 1 <= choice <= len(consultation.options):
        return render_text("consult/out_of_range", c=consultation, text=text.strip())
    resident = residents.get_or_create(session, openid, now)
    previous = consultations.record_reply(session, consultation, resident, choice, now)
    return render_text("consult/recorded", c=consultation, choice=choice,
                       option=consultation.options[choice - 1], changed=previous is not None,
                       closes=fmt_local(consultation.closes_at))


def answer(ctx: Context, msg: Inbound) -> str | None:
    """Dispatch action: the recorded answer or the hint; the next route when the message is no answer."""
    reply = reply_to(ctx.session, msg.openid, msg.text or "", ctx.now)
    return CONTINUE if reply is None else reply
