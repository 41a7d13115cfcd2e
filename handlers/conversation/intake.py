"""Intake: a resident's report becomes a routed case at once, or after Mulin has the address.

Judgement on `other` (documented in the issue's spirit): a message the classifier reads as
an update ("已经修好了", a resolved cue) or a short courtesy ("谢谢", "好的") joins the
resident's open case instead of opening a new one; with no open case, thanks alone get a
polite answer and no case; anything else that is `other` becomes a case for the community.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.clock import fmt_local
from bot.constants import PRIORITIES, Priority
from bot.domain import case_queries, mulinfang, mulinfang_alerts, residents
from bot.domain.case_notify import notify
from bot.domain.cases import add_event, create_case
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, lines, render_text
from bot.storage.models import Case, Compound, Resident
from handlers.conversation import binding, earlier, recurrence
from handlers.conversation.advice import advice, questions_for
from handlers.conversation.context import Context
from handlers.conversation.states import DialogueState, Step
from handlers.intents import FALLBACK, emergency
from handlers.understanding.address import (
    AddressMatch,
    is_bare_address,
    is_bungalow,
    match_address,
    match_in_report,
)
from handlers.understanding.classifier import Classification
from handlers.understanding.words import (
    after_move,
    care_of,
    clauses,
    is_courtesy,
    is_greeting,
    is_preface,
    is_public_place,
    is_question,
    is_register,
    is_thanks,
    question_topic,
    without_greeting,
)

COURTESY_MAX_CHARS = 8  # a short `other` with no keyword joins an open case rather than opening one
FIXED = "fixed"  # the staff alert's kind: the resident says the problem is over
INTRODUCTION_MAX_CHARS = 200  # an applicant's words about themselves, right after applying to a 睦邻坊
AFTER_ANSWER_MAX_CHARS = 20  # a remark this short right after an FAQ answer is about it ("那我明天上午过去一趟")
RESOLVED_MAX_CHARS = 12  # longer "resolved" news with no open case may be a complaint: a person reads it
BARE_ADDRESS_MAX_CHARS = 30  # a first message this short that is a full address is the address, not a report
COMPOUND_ONLY_EXTRA = 4  # a first message at most this much longer than a compound's name only names it ("我住X的")
ASIDE_LEAD = re.compile(r"^(?:另外|还有|还想问一下|再问一下|顺便问一下|顺便问下|顺便|对了|请问一下|请问)+")
QUESTION_ENDS = ("？", "?")
ASIDE_MAX_CHARS = 500  # a question beside the problem is looked for in a report's first 500 characters


def pending_of(msg: Inbound, c: Classification, sent_before: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A report waiting for its address: what was said and how it was understood; `sent_before`: a photo sent
    before the words (the dialogue's "media")."""
    return {"text": msg.text, "intent": c.intent, "priority": c.priority, "also": list(c.also),
            "safety": c.safety, "media": [*(sent_before or []), *media_of(msg)]}


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


def report(ctx: Context, msg: Inbound, data: dict[str, Any]) -> Step:
    """A new message with no open question: classify, then open (or join) a case or ask the address;
    a question asked beside the problem ("卫生间漏水。你们周六上班吗？") is answered after the reply."""
    if data.get("offered") and is_register(msg.text):  # "登记" right after a rule question's answer
        return _register(ctx, msg.openid, data["offered"])
    answered = data.get("answered", False)  # the last message was a question the FAQ answered
    applied = data.get("applied")  # the last message applied to join a 睦邻坊 (the application's id)
    # the offer, the answer and the application hold for the next message only
    data = {k: v for k, v in data.items() if k not in ("offered", "answered", "applied")}
    c = _urgent_first(ctx, ctx.classifier.classify(msg.text or ""))
    if answered and _remark(c, msg.text or ""):  # "那我明天上午过去一趟": no case unless the resident asks
        return Step(render_text("intake/after_answer"), data={**data, "offered": pending_of(msg, c)})
    if applied and _remark(c, msg.text or "", INTRODUCTION_MAX_CHARS):  # "我叫王秀兰，退休老师，平时喜欢帮邻居"
        if mulinfang.introduce(ctx.session, applied, msg.openid, msg.text or "") is not None:
            return Step(render_text("mulinfang/introduced"), data=data)
    step = _report(ctx, msg, data, c)
    answer = _question_aside(ctx, msg.text or "") if c.intent != FALLBACK else None
    if answer is None or step.reply is None:
        return step
    return replace(step, reply=step.reply + "\n\n" + answer)


def _question_aside(ctx: Context, text: str) -> str | None:
    """The FAQ's answer to a question sentence of a report that names no problem of its own, rendered."""
    if "？" not in text and "?" not in text:  # most reports: nothing asked
        return None
    for clause, end in clauses(text, ASIDE_MAX_CHARS):
        question = ASIDE_LEAD.sub("", clause.strip()) + end  # "另外你们几点下班？" is quoted as "你们几点下班？"
        if end not in QUESTION_ENDS or len(question) < 2:
            continue
        if ctx.classifier.classify(question).intent != FALLBACK:  # "漏水怎么办？" is the problem: the reply answers it
            continue
        answer = ctx.faq_answer(question)
        if answer is not None:
            return render_text("intake/question_aside", question=question, answer=answer)
    return None


def _report(ctx: Context, msg: Inbound, data: dict[str, Any], c: Classification) -> Step:
    if c.intent == FALLBACK and is_greeting(msg.text):
        return Step(render_text("intake/greeting", street=ctx.street_name), data=data)
    if c.intent == FALLBACK and is_preface(msg.text) and not data.get("prefaced"):  # asked once: never a loop
        resident = residents.get_or_create(ctx.session, msg.openid, ctx.now)
        return Step(render_text("intake/preface", address_known=resident.building_id is not None),
                    data={**data, "prefaced": True})
    answer = ctx.faq_answer(msg.text or "") if c.intent == FALLBACK and is_question(msg.text) else None
    if answer is not None:  # a question, not a complaint: answered, no case
        return Step(answer, data={**data, "answered": True})
    topic = question_topic(msg.text) if c.intent == FALLBACK and not data.get("prefaced") else None
    if topic is not None:  # "我想问问垃圾分类的事": the question itself comes next (asked once)
        return Step(render_text("intake/question_preface", topic=topic), data={**data, "prefaced": True})
    asks_rule = c.intent in ctx.faq.rule_intents and is_question(msg.text)
    rule = ctx.faq_answer(msg.text or "", c.intent) if asks_rule else None
    if rule is not None and _only_asks(ctx, msg.text or ""):  # the rule; a case only if the resident asks for one
        return Step(rule + "\n\n" + render_text("intake/rule_offer"), data={"offered": pending_of(msg, c)})
    if earlier.asks_about(ctx, msg.text or "", c):  # no open case fits: the chase route would have answered
        return earlier.answer(ctx, msg.openid, c, pending_of(msg, c))
    if _is_update(c, msg.text or ""):
        case = case_queries.latest_open(ctx.session, msg.openid)
        if case is not None and c.resolved and not is_courtesy(msg.text):
            return fixed(ctx, msg, case, {"case_id": case.id})
        if case is not None:
            add_event(ctx.session, case, "message", actor="resident", now=ctx.now, note=msg.text)
            return Step(render_text("intake/update_added", case=case), DialogueState.DETAILS, {"case_id": case.id})
        # thanks, or short news that it is fixed ("已经修好了，谢谢"): nothing to open
        # ... or thanks for an earlier repair ("上次你们帮我修好了水管，谢谢你们啊")
        if is_courtesy(msg.text) or c.resolved and (len(msg.text or "") <= RESOLVED_MAX_CHARS or is_thanks(msg.text)):
            return Step(render_text("intake/courtesy", thanks=is_thanks(msg.text) or c.resolved), data=data)
    resident = residents.get_or_create(ctx.session, msg.openid, ctx.now)
    if c.intent == FALLBACK and not c.terms:
        saved = _bare_address(ctx, msg, data) if resident.building_id is None else _moved(ctx, msg, resident)
        if saved is not None:
            return saved
    pending = pending_of(msg, c, data.get("media"))
    if resident.building_id is None and c.intent == emergency.SPEC.name:
        return _emergency_first(ctx, msg, resident, pending)
    if resident.building_id is None and not (c.intent == FALLBACK and is_question(msg.text)):
        return _ask_address(ctx, msg, c, pending, data)  # a question no FAQ answers goes to a person without it
    return open_report(ctx, resident, pending)


def _remark(c: Classification, text: str, max_chars: int = AFTER_ANSWER_MAX_CHARS) -> bool:
    """A short message naming no problem, neither a question nor thanks nor news that something is fixed: said
    about the answer just given (a plan, "好，我周一去"; an applicant's words about themselves), not a complaint."""
    return (c.intent == FALLBACK and not c.terms and not c.resolved and len(text) <= max_chars
            and not is_question(text) and not is_courtesy(text))


def _only_asks(ctx: Context, text: str) -> bool:
    """Whether the problem is named only inside the question ("请问一下，楼道里的自行车能放吗？"), not told as
    something happening ("邻居把电动车推到楼道里充电，这能充电吗？" is a report)."""
    told = "，".join(clause for clause, end in clauses(text, ASIDE_MAX_CHARS) if end not in QUESTION_ENDS)
    return ctx.classifier.classify(told).intent == FALLBACK


def _register(ctx: Context, openid: str, pending: dict[str, Any]) -> Step:
    """The problem a rule question named, registered after all: opened, or its address asked first."""
    resident = residents.get_or_create(ctx.session, openid, ctx.now)
    if resident.building_id is not None:
        return open_report(ctx, resident, pending)
    safety = advice(pending.get("safety"), pending["text"])
    return Step(render_text("intake/ask_address", intents=[label("intent", pending["intent"])], compound="",
                            building="", bungalow=False, safety=safety, critical=False),
                DialogueState.AWAIT_ADDRESS, {"pending": {**pending, "advised": bool(safety)}})


def _urgent_first(ctx: Context, c: Classification) -> Classification:
    """Of two problems in one report the more urgent one leads (its case first, its advice)."""
    if not c.also or c.priority == Priority.CRITICAL:
        return c
    lead = max(c.also, key=lambda name: PRIORITIES.index(ctx.classifier.spec(name).priority))
    spec = ctx.classifier.spec(lead)
    if PRIORITIES.index(spec.priority) <= PRIORITIES.index(Priority(c.priority)):
        return c
    also = (c.intent, *(name for name in c.also if name != lead))
    return replace(c, intent=lead, also=also, priority=spec.priority, safety=spec.safety)


def _bare_address(ctx: Context, msg: Inbound, data: dict[str, Any]) -> Step | None:
    """A first message that is nothing but an address ("红莲北里4号楼2单元301", "你好，我住天宁寺北里"): stored, no
    case."""
    text = without_greeting(msg.text or "")
    if len(text) > BARE_ADDRESS_MAX_CHARS:
        return None
    found = match_address(ctx.session, text)
    named = found.compound is not None and found.score >= 1.0 and found.status == "no_building"
    if named and found.compound is not None and len(text) <= len(found.compound.name) + COMPOUND_ONLY_EXTRA:
        # "天宁寺北里", "我是天宁寺北里的": the compound kept; the building asked, or the problem told next
        keep = {k: v for k, v in data.items() if k == "media"}
        return Step(render_text("intake/compound_noted", compound=found.compound.name,
                                bungalow=is_bungalow(found.compound)),
                    DialogueState.AWAIT_ADDRESS, {**keep, "hint": found.compound.id, "hint_sure": True})
    if found.status != "ok" or not is_bare_address(text):
        return None
    binding.bind_resident(ctx, msg.openid, found)
    keep = {k: v for k, v in data.items() if k == "media"}
    return Step(render_text("intake/address_saved", address=binding.describe(found), pending=False), data=keep)


def _moved(ctx: Context, msg: Inbound, resident: Resident) -> Step | None:
    """A known resident's message that is only a new address ("我搬家了，现在住天宁寺北里6号楼1门202"): stored, the old
    one named in the reply, no case."""
    text = after_move(msg.text) or msg.text or ""
    if len(text) > BARE_ADDRESS_MAX_CHARS or not is_bare_address(text):
        return None
    found = match_address(ctx.session, text)
    if found.status != "ok" or found.building is None:
        return None
    before = binding.describe_resident(resident)
    binding.bind_resident(ctx, msg.openid, found)
    return Step(render_text("intake/address_changed", address=binding.describe(found), before=before))


def _emergency_first(ctx: Context, msg: Inbound, resident: Resident, pending: dict[str, Any]) -> Step:
    """An emergency from a resident with no address: the case is opened at once (the duty staff hear of it),
    the advice leads, and only the place is asked; the next message naming it completes the case."""
    found = match_in_report(ctx.session, msg.text or "")
    if found.status == "ok":
        return open_at(ctx, binding.bind_resident(ctx, msg.openid, found), found, pending)
    opened = open_report(ctx, _in_compound(ctx, msg.openid, found.compound), pending)
    return Step((opened.reply or "") + "\n\n" + render_text("intake/ask_place", compound=found.compound.name
                                                             if found.compound else ""),
                opened.state, opened.data)


def _ask_address(ctx: Context, msg: Inbound, c: Classification, pending: dict[str, Any],
                 data: dict[str, Any]) -> Step:
    """A resident with no address: use the place the report names, else ask only for what is missing."""
    # a complaint no team owns names its place too ("我是天宁寺北里的，楼门口的垃圾桶好几天没人收了"); a message that
    # is only an address was taken as the address before (_bare_address)
    found = match_in_report(ctx.session, msg.text or "")
    if found.status == "ok":
        return open_at(ctx, binding.bind_resident(ctx, msg.openid, found), found, pending)
    keep = {k: v for k, v in data.items() if k in ("hint", "hint_sure")}
    if found.compound is not None:  # named exactly: kept for the next message ("4号楼")
        keep.update(hint=found.compound.id, hint_sure=True)
    # the compound this report or the resident's message before it named ("天宁寺北里", then the problem)
    named = found.compound or (ctx.session.get(Compound, keep["hint"]) if keep.get("hint_sure") else None)
    if named is not None and is_public_place(msg.text):
        return open_in_compound(ctx, msg.openid, named, pending)
    return Step(render_text("intake/ask_address", intents=[label("intent", i) for i in (c.intent, *c.also)],
                            compound=named.name if named else "",
                            building=found.building_no if found.status == "unknown_building" else "",
                            bungalow=named is not None and is_bungalow(named), public=is_public_place(msg.text),
                            safety=advice(c.safety, msg.text), critical=c.priority == "critical"),
                # advised: the advice led this reply, so the case's reply need not lead with it again
                DialogueState.AWAIT_ADDRESS, {**keep, "pending": {**pending, "advised": bool(c.safety)}})


def open_at(ctx: Context, resident: Resident, found: AddressMatch, pending: dict[str, Any]) -> Step:
    """The address just bound, read back, then the waiting report opened."""
    saved = render_text("intake/address_saved", address=binding.describe(found), pending=True)
    opened = open_report(ctx, resident, pending)
    if pending.get("priority") == Priority.CRITICAL and not pending.get("advised"):  # what to do now leads
        return Step((opened.reply or "") + "\n\n" + saved, opened.state, opened.data)
    return Step(saved + "\n\n" + (opened.reply or ""), opened.state, opened.data)


def _in_compound(ctx: Context, openid: str, compound: Compound | None) -> Resident:
    """The resident, placed in the compound when one is known (the building stays unknown)."""
    resident = residents.get_or_create(ctx.session, openid, ctx.now)
    if compound is not None and resident.compound_id != compound.id:
        resident.compound_id = compound.id
        ctx.session.flush()
        ctx.session.refresh(resident)
    return resident


def open_in_compound(ctx: Context, openid: str, compound: Compound, pending: dict[str, Any]) -> Step:
    """A report about a shared place (yard, roof, alley, hallway): the compound is enough, no door number."""
    opened = open_report(ctx, _in_compound(ctx, openid, compound), pending)
    return Step(render_text("intake/place_noted", compound=compound.name, building="") + "\n\n"
                + (opened.reply or ""), opened.state, opened.data)


def open_without_address(ctx: Context, openid: str, data: dict[str, Any]) -> Step:
    """No usable address after the tries: open the case anyway, the resident's words as the place;
    the community calls back (no dead end)."""
    hint = ctx.session.get(Compound, data["hint"]) if data.get("hint") and data.get("hint_sure") else None
    opened = open_report(ctx, _in_compound(ctx, openid, hint), data["pending"])
    case = ctx.session.get(Case, opened.data["case_id"])
    if case is not None:
        add_event(ctx.session, case, "place", actor="resident", now=ctx.now, note="；".join(data.get("tried", [])))
    return Step(render_text("intake/address_later") + "\n\n" + (opened.reply or ""), opened.state, opened.data)


def open_report(ctx: Context, resident: Resident, pending: dict[str, Any]) -> Step:
    """Join the resident's open case of the same intent (24 h) or create a case; reply with what's next."""
    session, now = ctx.session, ctx.now
    case = case_queries.duplicate_of(session, resident.openid, pending["intent"], now)
    if case is not None:
        add_event(session, case, "message", actor="resident", now=now, note=pending["text"])
        attach_media(session, case, pending.get("media") or [], now)
        return Step(render_text("intake/joined", case=case, status=label("status", case.status)),
                    DialogueState.DETAILS, {"case_id": case.id})
    finished = recurrence.case_of(ctx, resident, pending)
    if finished is not None:  # "还是漏，没修好" days after the leak's case was resolved: that case again
        attach_media(session, finished, pending.get("media") or [], now)
        return recurrence.reopen(ctx, finished, pending)
    care = care_of(pending["text"])  # 老弱病残: the staff are told who to look after
    case = create_case(session, openid=resident.openid, text=pending["text"], intent=pending["intent"],
                       priority=pending["priority"], also=tuple(pending.get("also") or ()), resident=resident,
                       now=now, care=care)
    attach_media(session, case, pending.get("media") or [], now)
    also = [_also_case(ctx, resident, case, intent) for intent in pending.get("also") or ()]
    spec = ctx.classifier.spec(case.intent)
    safety = pending.get("safety") or spec.safety
    hours = round((case.due_at - case.created_at).total_seconds() / 3600)
    critical, advised = case.priority == "critical", bool(pending.get("advised"))
    # Advice given with the address question is not repeated, except an emergency's, which the case reply repeats
    # after the case number (the resident may have scrolled past it).
    reply = render_text("intake/created", case=case, department=label("department", case.department),
                        hours=hours, due=fmt_local(case.due_at),
                        safety=advice(safety, pending["text"]) if critical or not advised else None,
                        critical=critical and not advised, also_cases=also,
                        questions=questions_for(spec.questions or lines(f"questions/{case.intent}"), pending["text"]),
                        other=case.intent == FALLBACK, care=care) + mulinfang_alerts.contact_note(session, case)
    # an emergency's advice has a next step ("我出来了，现在怎么办"): kept for the case's later messages
    # "danger" stays after the next step: "还是止不住" later still reaches the duty staff at once (after_report)
    return Step(reply, DialogueState.DETAILS,
                {"case_id": case.id, **({"safety": safety, "danger": safety} if critical else {})})


def _also_case(ctx: Context, resident: Resident, first: Case, intent: str) -> dict[str, str]:
    """The second problem a report names, routed as its own case (or joined to its open one); for the reply."""
    case = case_queries.duplicate_of(ctx.session, resident.openid, intent, ctx.now)
    if case is None:
        case = create_case(ctx.session, openid=resident.openid, text=first.text, intent=intent,
                           priority=ctx.classifier.spec(intent).priority, also=(), resident=resident, now=ctx.now,
                           care=first.care)
    else:
        add_event(ctx.session, case, "message", actor="resident", now=ctx.now, note=first.text)
    add_event(ctx.session, first, "also", actor="resident", now=ctx.now, data={"case": case.number, "intent": intent})
    return {"number": case.number, "intent": label("intent", intent),
            "department": label("department", case.department)}


def attach_media(session: Session, case: Case, media: list[dict[str, Any]], now: datetime) -> None:
    """Record photos, voice and video on the case (MediaId and PicUrl, as WeChat sent them)."""
    for item in media:
        kind = "photo" if item.get("kind") == "image" else item.get("kind", "photo")
        add_event(session, case, kind, actor="resident", now=now,
                  data={"MediaId": item.get("MediaId"), "PicUrl": item.get("PicUrl")})


def fixed(ctx: Context, msg: Inbound, case: Case, data: dict[str, Any]) -> Step:
    """The resident says the open case's problem is over: on the case, and its staff are told to confirm and close
    it (the bot does not close it: the staff ask, and the resident is asked whether satisfied)."""
    event = add_event(ctx.session, case, "message", actor="resident", now=ctx.now, note=msg.text)
    notify(ctx.session, case, case.department, ctx.now, f"{FIXED}-{event.id}", note=msg.text)
    return Step(render_text("intake/fixed_noted", case=case, department=label("department", case.department)),
                DialogueState.DETAILS, data)
