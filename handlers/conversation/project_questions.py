"""Residents and the street's renovation projects: "我们小区什么时候改造" answered from the project's data
(no case), and a 施工扰民 complaint from an affected place during a phase opened as a case of the project.

The check is pure (does the message speak of works?); the action looks at the resident's address.
A complaint from a place no phase is working on goes on to intake like any other message.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.clock import fmt_local
from bot.domain import projects, residents
from bot.messaging.inbound import Inbound
from bot.messaging.texts import render_text
from bot.storage.models import Project, ProjectPhase
from handlers.conversation import memory
from handlers.conversation.actions import CONTINUE
from handlers.conversation.context import Context
from handlers.conversation.states import DialogueState, State

MAX_CHARS = 200  # a longer message is a report for a person to read, not a question about dates
WORKS = ("施工", "工地", "工程", "改造", "整治", "修缮", "挖掘机", "渣土", "围挡", "工人", "脚手架", "开挖", "管线改造")
NUISANCE = ("扰民", "噪音", "噪声", "太吵", "吵死", "吵得", "很吵", "好吵", "扬尘", "灰尘", "尘土", "暴土",
            "堵路", "堵住", "堵了", "挡住", "进不去", "出不去", "没法走", "挖断", "挖坏", "挖破", "砸坏", "弄坏",
            "压坏", "停水", "半夜", "夜里", "晚上", "凌晨", "睡不着")
ALWAYS_NUISANCE = ("施工扰民", "夜间施工", "违规施工")
# a question about dates or progress (a bare 吗 is not enough: "楼下在改造房子，这是违建吗" is a report)
ASKING = ("什么时候", "啥时候", "何时", "哪天", "多久", "几时", "进度", "怎么安排", "什么安排", "完工", "竣工", "开工",
          "改不改", "还改吗", "改完")
# 装修 is a neighbour's flat, not the street's works; 加装电梯 is (电梯 alone is a lift to repair: the property's)
QUESTION_TOPIC = ("改造", "整治", "工地", "施工", "工程", "修缮", "加装电梯", "装电梯")


def is_complaint(text: str) -> bool:
    """The text complains of a works site: noise at night, dust, a blocked way, damaged pipes."""
    return any(w in text for w in ALWAYS_NUISANCE) or (
        any(w in text for w in WORKS) and any(w in text for w in NUISANCE))


def is_question(text: str) -> bool:
    """The text asks when the works come, how far they are, or when they end."""
    return any(w in text for w in QUESTION_TOPIC) and any(w in text for w in ASKING)


def check(msg: Inbound) -> bool:
    """Pure check: a message about renovation works (a complaint or a question)."""
    text = msg.text or ""
    return len(text) <= MAX_CHARS and (is_complaint(text) or is_question(text))


def _working(found: list[Project], now: datetime) -> tuple[Project, ProjectPhase] | None:
    day = projects.today(now)
    for project in found:
        phase = projects.current_phase(project, day)
        if phase is not None:
            return project, phase
    return None


@dataclass(frozen=True)
class Answer:
    """What Mulin answers about works, and the case it opened (photos and details join it)."""

    reply: str
    case_id: int | None = None


def complaint(session: Session, openid: str, text: str, now: datetime) -> Answer | None:
    """Open a case of the project working at the resident's place; None when no phase is under way there."""
    resident = residents.get_or_create(session, openid, now)
    working = _working(projects.affecting(session, resident), now)
    if working is None:
        return None
    project, phase = working
    case = projects.open_works_case(session, project, phase, resident, text, now)
    hours = round((case.due_at - case.created_at).total_seconds() / 3600)
    return Answer(render_text("project/case_created", case=case, p=project, hours=hours, due=fmt_local(case.due_at)),
                  case.id)


def question(session: Session, openid: str, now: datetime) -> Answer:
    """The current phase and dates of the projects at the resident's place, or a polite "no project here"."""
    resident = residents.get_or_create(session, openid, now)
    if resident.compound_id is None:
        return Answer(render_text("project/no_address"))
    found = projects.affecting(session, resident)
    if not found:
        return Answer(render_text("project/none", compound=resident.compound.name if resident.compound else "",
                                  building=resident.building.name if resident.building else ""))
    day = projects.today(now)
    rows = [(p, projects.current_phase(p, day), projects.next_phase(p, day), projects.stage(p, day)) for p in found]
    return Answer(render_text("project/answer", rows=rows, places=projects.place_text))


def reply_to(session: Session, openid: str, text: str, now: datetime) -> Answer | None:
    """A complaint about works becomes a project case, a question gets the dates; None: not this route's."""
    if is_complaint(text):
        return complaint(session, openid, text, now)
    if is_question(text):
        return question(session, openid, now)
    return None


def answer(ctx: Context, msg: Inbound) -> str | None:
    """Dispatch action: the project's answer, or the next route (intake) when it is not about a project."""
    found = reply_to(ctx.session, msg.openid, msg.text or "", ctx.now)
    if found is None:
        return CONTINUE
    if found.case_id is not None:  # like a new report: what the resident sends next joins this case
        memory.save(ctx, msg.openid, State(DialogueState.DETAILS, {"case_id": found.case_id}))
    return found.reply
