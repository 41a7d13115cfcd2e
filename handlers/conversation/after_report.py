"""After a report: what the resident says about the case just opened (state DETAILS) and after 人工 (HANDOFF).

More words are details of the case; "2单元1501" or "不对，是7号楼" completes its place; "什么时候能修好？" gets its
standing; "你们周六上班吗？" the FAQ's answer; "不漏了，已经好了" goes to its staff to confirm and close; the same
words again are not added twice; thanks are answered. A new problem starts over as a report (intake).
"""
from __future__ import annotations

from typing import Any

from bot.clock import fmt_local
from bot.constants import OPEN_STATUSES, Priority
from bot.domain.case_notify import notify
from bot.domain.cases import add_event
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, lines, render_text
from bot.storage.models import Case
from handlers.conversation import address_fill, handoff, intake
from handlers.conversation.advice import next_step
from handlers.conversation.context import Context
from handlers.conversation.states import DialogueState, Step
from handlers.intents import FALLBACK
from handlers.understanding.replies import says_cannot_stop
from handlers.understanding.words import clean, is_courtesy, is_question, is_thanks

REPEAT_MAX_CHARS = 200  # a message this short that is the case's words again is a repeat, not a detail


def detail(ctx: Context, msg: Inbound, data: dict[str, Any]) -> Step:
    """After a report: more words about the same case are added to it; a new problem starts over."""
    case = ctx.session.get(Case, data.get("case_id") or 0)
    c = ctx.classifier.classify(msg.text or "")
    same = c.intent == FALLBACK and not c.terms or case is not None and c.intent == case.intent
    if case is None or case.status not in OPEN_STATUSES:
        return intake.report(ctx, msg, {})
    danger = data.get("danger")  # an emergency's advice (intake.open_report), kept after its next step
    if danger and case.priority == Priority.CRITICAL and says_cannot_stop(msg.text):  # "关不上总阀啊，找不到在哪"
        return Step(_cannot_stop(ctx, msg, case, danger), DialogueState.DETAILS,
                    {k: v for k, v in data.items() if k != "safety"})
    filled = address_fill.fill(ctx, msg.openid, msg.text or "", case) if same or not c.terms else None
    if filled is not None:  # "2单元1501", "不对，是7号楼": the case's place, not a detail
        return Step(filled, DialogueState.DETAILS, data)
    if not same:
        return intake.report(ctx, msg, {})
    if is_courtesy(msg.text) and not c.terms:  # thanks after the report: nothing to add (the same again, briefly)
        kind = "thanks" if is_thanks(msg.text) else "ok"
        return Step(render_text("intake/courtesy", thanks=kind == "thanks", case=case,
                                again=data.get("courtesy") == kind), DialogueState.DETAILS, {**data, "courtesy": kind})
    if c.resolved and c.intent == FALLBACK and not next_step(data.get("safety")):  # "不漏了，已经好了"
        return intake.fixed(ctx, msg, case, data)
    said = clean(msg.text) if len(msg.text or "") <= REPEAT_MAX_CHARS else ""
    if said and said in (clean(case.text[:REPEAT_MAX_CHARS + 1]), data.get("last_said")):  # "暖气不热" again
        repeats = int(data.get("repeats") or 0) + 1
        return Step(render_text("intake/repeated", **_standing(case), times=repeats), DialogueState.DETAILS,
                    {**data, "repeats": repeats})
    data = {**data, "last_said": said}
    asked = is_question(msg.text)  # "消杀收费吗" names the case's own kind: a question about it all the same
    answer = ctx.faq_answer(msg.text or "") if asked and c.intent == FALLBACK else None
    if answer is not None:  # "你们周六上班吗？": answered, not a detail of the case
        return Step(answer, DialogueState.DETAILS, data)
    add_event(ctx.session, case, "detail", actor="resident", now=ctx.now, note=msg.text)
    intake.attach_media(ctx.session, case, intake.media_of(msg), ctx.now)
    following = next_step(data.get("safety"))
    if following:  # after an emergency's advice: what to do now, not "已补充" (once; later words are details)
        return Step(render_text("intake/next_step", case=case, advice=following), DialogueState.DETAILS,
                    {k: v for k, v in data.items() if k != "safety"})
    if asked:  # "什么时候能修好？": the case's standing, the question noted for its staff
        return Step(render_text("intake/detail_question", **_standing(case), contact=ctx.street_contact,
                                critical=case.priority == Priority.CRITICAL), DialogueState.DETAILS, data)
    added = int(data.get("details") or 0) + 1  # counted in the reply: three details are not one reply three times
    return Step(render_text("intake/detail_added", case=case, count=added), DialogueState.DETAILS,
                {**data, "details": added})


def _cannot_stop(ctx: Context, msg: Inbound, case: Case, danger: str) -> str:
    """The resident could not do the emergency's advice: the duty staff hear of it at once, with the words (a
    特急 case's alert is not held), and the reply says what to do meanwhile (templates/text/safety/*_cannot)."""
    add_event(ctx.session, case, "detail", actor="resident", now=ctx.now, note=msg.text)
    intake.attach_media(ctx.session, case, intake.media_of(msg), ctx.now)
    notify(ctx.session, case, case.department, ctx.now, f"urgent-{ctx.now.timestamp():.0f}", note=msg.text)
    return render_text("intake/cannot_stop", case=case, advice="\n".join(lines(f"{danger}_cannot")),
                       contact=ctx.street_contact)


def _standing(case: Case) -> dict[str, Any]:
    """What a reply about the case's standing shows: its kind, status, department and time limit (Asia/Shanghai)."""
    return {"case": case, "intent": label("intent", case.intent), "status": label("status", case.status),
            "department": label("department", case.department), "due": fmt_local(case.due_at)}


def to_person(ctx: Context, msg: Inbound, data: dict[str, Any]) -> Step:
    """After 人工: the bot stops asking; messages go to the case and are pushed to the staff member."""
    case = ctx.session.get(Case, data.get("case_id") or 0)
    if case is None or case.status not in OPEN_STATUSES:
        return intake.report(ctx, msg, {})
    intake.attach_media(ctx.session, case, intake.media_of(msg), ctx.now)
    return Step(handoff.forward(ctx, msg, case), DialogueState.HANDOFF, data)
