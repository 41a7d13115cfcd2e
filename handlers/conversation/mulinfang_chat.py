"""睦邻坊 in the chat: a resident applies ("我想加入睦邻坊", "我也想当志愿者"); a group member adds an on-site
note or confirms a case fixed ("已处理 20261202-0001", or a photo right after an alert); a member reports for
an elderly neighbour (代报: "帮3单元201的王奶奶报一下，她家厨房漏水").

Checks are pure (the words); actions look at the sender's memberships and return CONTINUE when the sender
is no member, so the message goes on to intake like any other.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from bot.constants import MemberStatus
from bot.domain import mulinfang, mulinfang_alerts, residents
from bot.domain.cases import add_event, create_case
from bot.messaging.inbound import Inbound
from bot.messaging.texts import label, render_text
from bot.storage.models import Building, Case, Compound, MulinfangMember, Resident
from handlers.conversation import binding, intake, memory
from handlers.conversation.actions import CONTINUE
from handlers.conversation.context import Context
from handlers.conversation.states import ASKING_ADDRESS, DialogueState, State, Step
from handlers.understanding.address import AddressMatch, match_address, parse_place
from handlers.understanding.words import care_of, is_no, is_question, is_yes

APPLY = re.compile(r"(加入|参加|参与|报名|申请)(我们楼的?|本楼的?)?睦邻坊"
                   r"|(当|做|成为|报名|报名当|报名做)(一名|个)?志愿者")
ASKING = ("怎么", "如何", "是什么", "干什么", "做什么", "啥", "哪里", "在哪")
ASKING_GROUP = (*ASKING, "谁", "联系人", "找谁")
CASE_NUMBER = re.compile(r"\d{8}-\d{4}")
FIXED = ("已处理", "已解决", "已修好", "已清理", "已清走", "处理好了", "修好了", "解决了", "清理完了")
ON_BEHALF = re.compile(r"^\s*(?:帮|替|给)(?P<who>[^，,。；;\s]{2,30}?)"
                       r"(?:报一下|报个修|报个|报一个|报修|代报|反映一下|反映|登记一下|报)[，,。：:\s]*(?P<what>.+)$")
ADDRESS_PART = re.compile(r"\d+\s*(号楼|号|栋|幢|楼|单元|门|室)?|-")  # "6号楼3单元201王奶奶" -> "王奶奶"
MAX_TRIES = 2


def is_application(msg: Inbound) -> bool:
    """Pure check: the resident asks to join a 睦邻坊 (not how it works: the FAQ answers that)."""
    text = msg.text or ""
    return len(text) <= 60 and bool(APPLY.search(text)) and not any(w in text for w in ASKING)


def is_group_question(msg: Inbound) -> bool:
    """Pure check: a question about 睦邻坊 ("睦邻坊是干什么的", "我们楼有睦邻坊吗"), not an application."""
    text = msg.text or ""
    asks = is_question(text) or any(w in text for w in ASKING_GROUP) or text.strip(" ?？。") == "睦邻坊"
    return "睦邻坊" in text and len(text) <= 60 and asks \
        and not is_application(msg) and not is_group_message(msg)


def question(ctx: Context, msg: Inbound) -> str | None:
    """What 睦邻坊 is, with the resident's building's group contact when the building has one."""
    resident = ctx.session.scalars(select(Resident).where(Resident.openid == msg.openid)).one_or_none()
    building = resident.building if resident else None
    group = mulinfang.contact_line(ctx.session, building.id if building else None, msg.openid)
    member = mulinfang.membership(ctx.session, building, msg.openid) if building else None
    joined = member.status if member is not None and member.status != MemberStatus.REJECTED else None
    return render_text("faq/mulinfang", street=ctx.street_name, contact=ctx.street_contact, group=group,
                       joined=joined)


def _apply_for(ctx: Context, resident: Resident) -> tuple[str, dict[str, Any]]:
    """The application's answer, and the dialogue data after it: a new application takes the applicant's next words
    about themselves (intake.report: "我叫王秀兰，退休老师" goes on the application, not into a case)."""
    assert resident.building is not None
    member, new = mulinfang.apply(ctx.session, openid=resident.openid, building=resident.building,
                                  name=resident.name, now=ctx.now)
    place = render_text("mulinfang/place", building=resident.building)
    if not new:
        return render_text("mulinfang/already", place=place, active=member.status == MemberStatus.ACTIVE), {}
    return render_text("mulinfang/applied", place=place, role=member.role), {"applied": member.id}


def apply(ctx: Context, msg: Inbound) -> str | None:
    """An application for the resident's building; the address is asked first when unknown."""
    resident = residents.get_or_create(ctx.session, msg.openid, ctx.now)
    if resident.building_id is None:
        current = memory.load(ctx, msg.openid)  # a report waiting for the address keeps waiting with the application
        keep = current.data if current.name in ASKING_ADDRESS and current.data.get("pending") else {}
        memory.save(ctx, msg.openid, State(DialogueState.MULINFANG_ADDRESS, keep))
        return render_text("mulinfang/ask_address")
    reply, data = _apply_for(ctx, resident)
    memory.save(ctx, msg.openid, State(data=data))
    return reply


def await_address(ctx: Context, msg: Inbound, data: dict[str, Any]) -> Step:
    """The address for an application, matched and bound like a report's (a fuzzy match is confirmed)."""
    text = msg.text or ""
    candidate = data.get("candidate")
    if candidate and is_yes(text):
        compound = ctx.session.get(Compound, candidate["compound"])
        building = ctx.session.get(Building, candidate["building"])
        found = AddressMatch("ok", compound, building, candidate.get("unit"), candidate.get("room"), 1)
        return _bound(ctx, msg, found, data)
    found = match_address(ctx.session, text)
    if found.status == "ok":
        return _bound(ctx, msg, found, data)
    if found.status == "confirm" and found.compound is not None and found.building is not None:
        keep = {"compound": found.compound.id, "building": found.building.id, "unit": found.unit, "room": found.room}
        return Step(render_text("intake/address_confirm", address=binding.describe(found)),
                    DialogueState.MULINFANG_ADDRESS, {**data, "candidate": keep})
    rest = {k: v for k, v in data.items() if k != "candidate"}
    if found.status == "unknown" and not candidate and not is_no(text) and not data.get("tries") \
            and not data.get("pending"):
        return intake.report(ctx, msg, {})  # not an address at all: a new message
    tries = int(data.get("tries", 0)) + 1
    if tries >= MAX_TRIES:
        later = render_text("mulinfang/address_later", contact=ctx.street_contact)
        if not data.get("pending"):
            return Step(later)
        opened = intake.open_without_address(ctx, msg.openid, {**rest, "tried": [text]})
        return Step(f"{opened.reply}\n\n{later}", opened.state, opened.data)
    return Step(render_text("intake/address_again", status=found.status if not is_no(text) else "rejected",
                            compound=found.compound.name if found.compound else ""),
                DialogueState.MULINFANG_ADDRESS, {**rest, "tries": tries})


def _bound(ctx: Context, msg: Inbound, found: AddressMatch, data: dict[str, Any]) -> Step:
    resident = binding.bind_resident(ctx, msg.openid, found)
    applied, after = _apply_for(ctx, resident)
    if data.get("pending"):  # the report that waited for the address is opened too (its questions come next)
        opened = intake.open_at(ctx, resident, found, data["pending"])
        return Step(f"{opened.reply}\n\n{applied}", opened.state, opened.data)
    saved = render_text("intake/address_saved", address=binding.describe(found), pending=False)
    return Step(saved + "\n\n" + applied, data=after)


def is_group_message(msg: Inbound) -> bool:
    """Pure check: a message naming a case number (a member's note or confirmation), or a 代报."""
    text = msg.text or ""
    return bool(CASE_NUMBER.search(text)) or bool(ON_BEHALF.match(text))


def group_message(ctx: Context, msg: Inbound) -> str | None:
    """A member's note or confirmation on a case of their building, or a report for a neighbour."""
    text = (msg.text or "").strip()
    found = CASE_NUMBER.search(text)
    if found is None:
        return _on_behalf(ctx, msg, text)
    case = ctx.session.scalars(select(Case).where(Case.number == found.group(0))).one_or_none()
    member = mulinfang_alerts.member_for(ctx.session, msg.openid, case) if case is not None else None
    if case is None or member is None:
        return CONTINUE  # not a member of that building's group: an ordinary message
    note = (text[:found.start()] + text[found.end():]).strip(" ：:，,。")
    fixed = any(w in text for w in FIXED)
    mulinfang_alerts.add_note(ctx.session, case, member, fixed=fixed, note=note or None, now=ctx.now)
    return render_text("mulinfang/noted", case=case, fixed=fixed)


def group_photo(ctx: Context, msg: Inbound) -> str | None:
    """A photo from a member soon after an alert, while no dialogue of their own is open: on that case."""
    case = mulinfang_alerts.last_alerted(ctx.session, msg.openid, ctx.now)
    member = mulinfang_alerts.member_for(ctx.session, msg.openid, case) if case is not None else None
    if case is None or member is None or memory.load(ctx, msg.openid).name != DialogueState.IDLE:
        return CONTINUE
    mulinfang_alerts.add_note(ctx.session, case, member, fixed=False, now=ctx.now,
                              media={"MediaId": msg.media_id, "PicUrl": msg.raw.get("PicUrl")})
    return render_text("mulinfang/photo_added", case=case)


def _neighbour(member: MulinfangMember, who: str) -> tuple[Resident, str]:
    """The neighbour's place (in the member's compound; the member's building unless another is named) and
    name, as a resident the case is opened at (never stored as a resident)."""
    building = member.building
    _, number, unit, room = parse_place(who)
    if number is None:
        _, _, unit, room = parse_place(f"{building.name}号楼{who}")
    else:
        building = next((b for b in building.compound.buildings if b.name == number), building)
    name = who.rsplit("的", 1)[-1] if "的" in who else ADDRESS_PART.sub("", who)
    place = Resident(openid=member.openid, compound=building.compound, compound_id=building.compound_id,
                     building=building, building_id=building.id, unit=unit, room=room)
    return place, name.strip() or who


def _on_behalf(ctx: Context, msg: Inbound, text: str) -> str | None:
    """代报: the case is at the neighbour's address with their name; the member is the reporter and hears
    the follow-ups (the case's openid is theirs)."""
    members = mulinfang_alerts.memberships(ctx.session, msg.openid)
    matched = ON_BEHALF.match(text)
    if not members or matched is None:
        return CONTINUE
    member = members[0]
    place, name = _neighbour(member, matched.group("who"))
    what = matched.group("what").strip()
    c = ctx.classifier.classify(what)
    case = create_case(ctx.session, openid=msg.openid, text=text, intent=c.intent, priority=c.priority, also=(),
                       resident=place, now=ctx.now, actor=render_text("mulinfang/actor", m=member),
                       care=care_of(what))  # "她一个人住，腿脚不好": the neighbour's
    add_event(ctx.session, case, "on_behalf", actor=render_text("mulinfang/actor", m=member), now=ctx.now,
              note=render_text("mulinfang/on_behalf_note", neighbour=name, m=member),
              data={"neighbour": name, "reporter": member.name, "role": member.role})
    memory.save(ctx, msg.openid, State(DialogueState.DETAILS, {"case_id": case.id}))
    hours = round((case.due_at - case.created_at).total_seconds() / 3600)
    return render_text("mulinfang/on_behalf", case=case, neighbour=name, place=intake_place(case),
                       intent=label("intent", case.intent), department=label("department", case.department),
                       hours=hours)


def intake_place(case: Case) -> str:
    """The case's address as the member reads it back."""
    return render_text("intake/place", compound=case.compound.name if case.compound else "",
                       building=case.building.name if case.building else "", unit=case.unit or "",
                       room=case.room or "")
