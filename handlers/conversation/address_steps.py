"""The address question: match what the resident typed, confirm a fuzzy match, bind it, open the waiting report."""
from __future__ import annotations

from typing import Any

from bot.messaging.inbound import Inbound
from bot.messaging.texts import render_text
from bot.storage.models import Compound
from handlers.conversation import binding, intake
from handlers.conversation.context import Context
from handlers.conversation.states import DialogueState, Step
from handlers.intents import FALLBACK, emergency
from handlers.understanding.address import AddressMatch, is_bungalow, match_address
from handlers.understanding.words import is_courtesy, is_no, is_public_place, is_question, is_yes

MAX_TRIES = 2  # answers that gave no usable address before the case is opened anyway (no dead end)


def _hint(ctx: Context, data: dict[str, Any]) -> Compound | None:
    return ctx.session.get(Compound, data["hint"]) if data.get("hint") else None


def await_address(ctx: Context, msg: Inbound, data: dict[str, Any]) -> Step:
    """The resident typed (what should be) an address."""
    data = _problem_told(ctx, msg, data)
    if data.get("pending") and is_courtesy(msg.text):  # "好的谢谢你闺女": asked again kindly, not a failed try
        return Step(_asked_again(ctx, data, "courtesy"), DialogueState.AWAIT_ADDRESS, data)
    found = match_address(ctx.session, msg.text or "", _hint(ctx, data), bool(data.get("hint_sure")))
    if data.get("pending") and found.status == "unknown" and is_question(msg.text) \
            and ctx.classifier.classify(msg.text or "").intent == FALLBACK:
        return _question(ctx, msg, data)  # "你们电话多少？", "为什么要地址？": answered, not a failed try
    if found.status in ("unknown", "no_building") and not data.get("pending"):
        return intake.report(ctx, msg, data)  # no address and nothing waiting for one: a new report
    if found.status in ("ok", "confirm") and not data.get("pending"):
        data = _report_with_address(ctx, msg, data)
    if found.status != "ok" and ctx.classifier.classify(msg.text or "").intent == emergency.SPEC.name:
        return intake.report(ctx, msg, {})  # "着火了！" while asked for the address: the emergency first
    if found.compound is not None and found.score >= 1.0 and found.status in ("no_building", "unknown_building"):
        data = {**data, "hint": found.compound.id, "hint_sure": True}  # kept for the next message
        if _public(msg, data):
            return intake.open_in_compound(ctx, msg.openid, found.compound, data["pending"])
    if found.status == "ok":
        return bind(ctx, msg.openid, found, data)
    if found.status == "confirm" and found.compound is not None and found.building is not None:
        candidate = {"compound": found.compound.id, "building": found.building.id,
                     "unit": found.unit, "room": found.room}
        return Step(render_text("intake/address_confirm", address=binding.describe(found)),
                    DialogueState.CONFIRM_ADDRESS, {**data, "candidate": candidate})
    if found.status == "unknown" and data.get("pending") and is_public_place(msg.text):
        return _place_told(ctx, msg, data)
    return _again(ctx, msg, data, found.status, found.compound.name if found.compound else "", found.building_no)


def _place_told(ctx: Context, msg: Inbound, data: dict[str, Any]) -> Step:
    """"就在院子里" while the address is asked: the place is kept on the waiting report (no door number is needed
    for it now) and only the compound is asked; still a try, so that the same answer again cannot loop."""
    return _again(ctx, msg, _kept_on_report(data, msg), "public", "")


def _question(ctx: Context, msg: Inbound, data: dict[str, Any]) -> Step:
    """A question while the address is asked: the FAQ's answer, or the question kept on the coming case for its
    staff; then the address asked again."""
    answer = ctx.faq_answer(msg.text or "")
    if answer is None:
        data = _kept_on_report(data, msg)
    said = answer or render_text("intake/question_kept")
    return Step(said + "\n\n" + _asked_again(ctx, data, "question"), DialogueState.AWAIT_ADDRESS, data)


def _asked_again(ctx: Context, data: dict[str, Any], status: str) -> str:
    """The address asked again after a courtesy or a question (no failed try): of the compound named, if one was."""
    hint = _hint(ctx, data) if data.get("hint_sure") else None
    return render_text("intake/address_again", status=status, compound=hint.name if hint else "",
                       bungalow=hint is not None and is_bungalow(hint))


def _problem_told(ctx: Context, msg: Inbound, data: dict[str, Any]) -> dict[str, Any]:
    """The waiting report named no problem (其他诉求) and this message does: it becomes the report, both texts
    kept ("你好啊" or "我想反映个事", then the leak story with the address in it)."""
    pending = data.get("pending")
    if not pending or pending.get("intent") != FALLBACK:
        return data
    told = intake.pending_of(msg, ctx.classifier.classify(msg.text or ""), pending.get("media"))
    if told["intent"] == FALLBACK:
        return data
    return {**data, "pending": {**told, "text": _joined(pending.get("text"), msg.text)}}


def _kept_on_report(data: dict[str, Any], msg: Inbound) -> dict[str, Any]:
    """The message's words added to the waiting report's, for its staff to read."""
    pending = data["pending"]
    return {**data, "pending": {**pending, "text": _joined(pending.get("text"), msg.text)}}


def _joined(*texts: str | None) -> str:
    return "\n".join(t for t in texts if t)


def _report_with_address(ctx: Context, msg: Inbound, data: dict[str, Any]) -> dict[str, Any]:
    """Nothing was waiting for the address (the resident named the compound first: "你好，我住天宁寺北里") and this
    message names the building and a problem ("6号楼的暖气不热"): the report waits for the address no more."""
    c = ctx.classifier.classify(msg.text or "")
    if c.intent == FALLBACK:
        return data
    return {**data, "pending": intake.pending_of(msg, c, data.get("media"))}


def _public(msg: Inbound, data: dict[str, Any]) -> bool:
    """The waiting report, or this message, is about a shared place: no door number is needed."""
    return bool(data.get("pending")) and (is_public_place(msg.text) or is_public_place(data["pending"].get("text")))


def _again(ctx: Context, msg: Inbound, data: dict[str, Any], status: str, compound: str,
           building: str | None = None) -> Step:
    """Ask for the address again; after MAX_TRIES that gave none, open the waiting report anyway."""
    tried = [*data.get("tried", []), msg.text or ""]
    if data.get("pending") and len(tried) >= MAX_TRIES:
        return intake.open_without_address(ctx, msg.openid, {**data, "tried": tried})
    return Step(render_text("intake/address_again", status=status, compound=compound, bungalow=is_bungalow(compound),
                            building=building or ""),
                DialogueState.AWAIT_ADDRESS, {**data, "tried": tried})


def confirm_address(ctx: Context, msg: Inbound, data: dict[str, Any]) -> Step:
    """The resident answered whether the fuzzy match is right (or typed another address)."""
    text = msg.text or ""
    candidate = data.get("candidate") or {}
    rest = {k: v for k, v in data.items() if k != "candidate"}
    compound = ctx.session.get(Compound, candidate["compound"]) if is_yes(text) and candidate else None
    if compound is not None:
        building = next((b for b in compound.buildings if b.id == candidate["building"]), None)
        found = AddressMatch("ok", compound, building, candidate.get("unit"), candidate.get("room"), 1.0)
        return bind(ctx, msg.openid, found, rest)
    if is_no(text):
        return _again(ctx, msg, rest, "rejected", "")
    return await_address(ctx, msg, rest)


def bind(ctx: Context, openid: str, found: AddressMatch, data: dict[str, Any]) -> Step:
    """Store the address on the resident, then open the report that was waiting for it."""
    resident = binding.bind_resident(ctx, openid, found)
    if not data.get("pending"):
        return Step(render_text("intake/address_saved", address=binding.describe(found), pending=False))
    return intake.open_at(ctx, resident, found, data["pending"])
