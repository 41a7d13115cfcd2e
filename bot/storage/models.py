"""Database tables: the source of truth for messages, residents, cases, notices and sends.

Times are stored as naive UTC; bot.clock converts for display (Asia/Shanghai).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.constants import CaseStatus, InboundStatus, MediaStatus, MemberStatus, NoticeStatus, OutboxStatus


class Base(DeclarativeBase):
    """Declarative base for all Mulin tables."""


class InboundMessage(Base):
    """Every message or event WeChat pushed, stored before it is handled."""

    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[str | None] = mapped_column(Text)
    media_id: Mapped[str | None] = mapped_column(String(256))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # retention deletes by it
    # received (being answered) | queued (stored, answered soon by the scheduler) | handled | failed
    status: Mapped[str] = mapped_column(String(16), default=InboundStatus.RECEIVED, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    reply: Mapped[str | None] = mapped_column(Text)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(String(200))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))


class PendingReport(Base):
    """A resident's report waiting for the address: the dialogue's copy lives in Redis, which may be lost."""

    __tablename__ = "pending_reports"
    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    # {"pending": {text, intent, priority, also, safety, media}, "hint"…}
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Community(Base):
    """A 社区 of the street."""

    __tablename__ = "communities"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    compounds: Mapped[list[Compound]] = relationship(back_populates="community")


class Compound(Base):
    """A 小区: a compound of buildings within one community."""

    __tablename__ = "compounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(64), unique=True)
    aliases: Mapped[str | None] = mapped_column(String(256))  # comma-separated
    qr_scene: Mapped[str | None] = mapped_column(String(64), unique=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    community: Mapped[Community] = relationship(back_populates="compounds")
    buildings: Mapped[list[Building]] = relationship(back_populates="compound")


class Building(Base):
    """A building; property_manager is None for an unmanaged building (失管)."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("compound_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    name: Mapped[str] = mapped_column(String(32))  # "5" for 5号楼
    property_manager: Mapped[str | None] = mapped_column(String(128))
    compound: Mapped[Compound] = relationship(back_populates="buildings")


class MulinfangMember(Base):
    """A member of a building's 睦邻坊 (self-governance group): role, and whether residents are shown them."""

    __tablename__ = "mulinfang_members"
    __table_args__ = (UniqueConstraint("building_id", "openid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # MulinfangRole
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.ACTIVE)  # MemberStatus
    contact: Mapped[bool] = mapped_column(Boolean, default=False)  # the group's contact for its residents
    phone: Mapped[str | None] = mapped_column(String(32))
    intro: Mapped[str | None] = mapped_column(Text)  # what an applicant wrote about themselves after applying
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    building: Mapped[Building] = relationship()


class Staff(Base):
    """A staff member notified about cases of a department (and community)."""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("openid", "department", "community_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    openid: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(32))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    # The console user who bound this WeChat ("绑定 123456"); their department and community are copied here
    # when they bind and whenever an admin edits them. None: set up by import-staff.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)


class Resident(Base):
    """A follower of the official account, with the address it is bound to."""

    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), index=True)
    unit: Mapped[str | None] = mapped_column(String(16))
    room: Mapped[str | None] = mapped_column(String(16))
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    compound: Mapped[Compound | None] = relationship()
    building: Mapped[Building | None] = relationship()


class Case(Base):
    """A 工单: one resident's problem, routed to a department."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_building_intent_created", "building_id", "intent", "created_at"),
                      Index("ix_cases_created_at", "created_at"),  # the console's list: newest first, paged
                      Index("ix_cases_due_at", "due_at"))  # ... and nearest deadline (most overdue) first
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    intent: Mapped[str] = mapped_column(String(32))
    also: Mapped[str | None] = mapped_column(String(128))
    priority: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN, index=True)
    text: Mapped[str] = mapped_column(Text)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    unit: Mapped[str | None] = mapped_column(String(16))
    room: Mapped[str | None] = mapped_column(String(16))
    group_id: Mapped[int | None] = mapped_column(Integer, index=True)  # linked reports
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)  # 人工
    care: Mapped[str | None] = mapped_column(String(64))  # who to look after: "独居、高龄" (from the report)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[str | None] = mapped_column(String(16))  # Satisfaction
    solved: Mapped[bool | None] = mapped_column(Boolean)
    followup_state: Mapped[str | None] = mapped_column(String(16))  # FollowupState
    followup_asked_at: Mapped[datetime | None] = mapped_column(DateTime)
    followup_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    warned_at: Mapped[datetime | None] = mapped_column(DateTime)  # 80% reminder sent
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)  # overdue to supervisors
    # The person-level assignee (我来办 / assigned to a colleague); the department stays the case's owner.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    assignee: Mapped[User | None] = relationship()
    compound: Mapped[Compound | None] = relationship()
    building: Mapped[Building | None] = relationship()
    community: Mapped[Community | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")


class CaseEvent(Base):
    """The audit trail: every change and message on a case, with who and when."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    case: Mapped[Case] = relationship(back_populates="events")


class Outbox(Base):
    """A message to send through WeChat's API; drained by the scheduler with retries."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)  # idempotency key
    openid: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))  # Purpose
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"text": ..., "template": {...}}
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)  # OutboxStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    errcode: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(16))  # custom|template
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), index=True)
    notice_offset: Mapped[int | None] = mapped_column(Integer)  # minutes before the cleanup
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    msgid: Mapped[str | None] = mapped_column(String(32), index=True)  # WeChat's, from template send / bizsend
    # WeChat's delivery receipt for a sent template message or subscription notice (Receipt); None: none yet
    receipt: Mapped[str | None] = mapped_column(String(16))


class EarlyReceipt(Base):
    """A delivery receipt that came before its send's msgid was committed (or for a msgid Mulin never sent):
    kept until the scheduler sets it on the send (bot.messaging.receipts.apply_early), dropped after a day."""

    __tablename__ = "early_receipts"
    id: Mapped[int] = mapped_column(primary_key=True)
    msgid: Mapped[str] = mapped_column(String(32), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    receipt: Mapped[str] = mapped_column(String(16))  # Receipt
    received_at: Mapped[datetime] = mapped_column(DateTime)


class MediaFile(Base):
    """A resident's photo or voice message, downloaded from WeChat (media/get) while its MediaId is valid."""

    __tablename__ = "media_files"
    __table_args__ = (Index("ix_media_files_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[str] = mapped_column(String(256), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # image|voice|video|shortvideo
    status: Mapped[str] = mapped_column(String(16), default=MediaStatus.PENDING)  # MediaStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime)  # WeChat keeps the media 3 days from then
    path: Mapped[str | None] = mapped_column(String(256))  # relative to MEDIA_DIR
    content_type: Mapped[str | None] = mapped_column(String(64))  # of the stored (browser-playable) file
    error: Mapped[str | None] = mapped_column(String(200))
    stored_at: Mapped[datetime | None] = mapped_column(DateTime)


class Subscription(Base):
    """A resident's answer to a subscription notice template (订阅通知): accept or reject, the latest wins."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("openid", "template_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # accept|reject (WeChat's SubscribeStatusString)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Notice(Base):
    """A hallway-cleanup notice for some buildings, sent at configured offsets before."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    cleanup_at: Mapped[datetime] = mapped_column(DateTime)
    target: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"community": .., "compound": .., "buildings": [..]}
    offsets: Mapped[list[Any]] = mapped_column(JSON)  # minutes before cleanup_at, e.g. [10080, 1440]
    status: Mapped[str] = mapped_column(String(16), default=NoticeStatus.ACTIVE)  # NoticeStatus
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # offsets whose delivery rows have been created ("fanned out")
    fanned_out: Mapped[list[Any]] = mapped_column(JSON, default=list)


class NoticeReply(Base):
    """A resident's reply to a cleanup notice that reached them: an acknowledgement (好的，周末就挪走) or a
    question (那我的电动车停哪), the latter with the case its community answers it on."""

    __tablename__ = "notice_replies"
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    openid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # ack|question
    text: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class User(Base):
    """A console user: admin or staff of a department and community."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # Role
    department: Mapped[str | None] = mapped_column(String(32))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    # Part of the session cookie's user id: bumping it (logout, a new password) ends every session at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # disabled: no login, no session
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # The one-time code for binding the user's WeChat (bot/domain/staff_binding.py) and when it expires.
    bind_code: Mapped[str | None] = mapped_column(String(16), unique=True, index=True)
    bind_code_expires_at: Mapped[datetime | None] = mapped_column(DateTime)


class Counter(Base):
    """Named counters for case numbers, incremented atomically in the database."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for statements that skip the ORM's unit of work (typed as a Table)."""
    return cast(Table, model.__table__)


class Consultation(Base):
    """A 征求意见 (议事): one question with two to six options, put to residents of some buildings until closes_at."""

    __tablename__ = "consultations"
    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[Any]] = mapped_column(JSON)  # option texts, answered by number 1..n or by text
    target: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"community": .., "compound": .., "buildings": [..]}
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)  # active|closed|cancelled
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    fanned_out_at: Mapped[datetime | None] = mapped_column(DateTime)  # when the question's sends were created
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # when the results message's sends were created


class ConsultationReply(Base):
    """One resident's current answer; the household's latest answer is the one that counts."""

    __tablename__ = "consultation_replies"
    __table_args__ = (UniqueConstraint("consultation_id", "openid"),
                      Index("ix_consultation_replies_household", "consultation_id", "household"))
    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"))
    openid: Mapped[str] = mapped_column(String(64))
    household: Mapped[str] = mapped_column(String(96))  # building, unit and room; the openid when unknown
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    choice: Mapped[int] = mapped_column(Integer)  # 1-based option number
    answered_at: Mapped[datetime] = mapped_column(DateTime)
    changes: Mapped[int] = mapped_column(Integer, default=0)  # how often this resident changed the answer


class Project(Base):
    """A 老旧小区整治 renovation project: category, responsible unit, places and phases."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(32))  # one of bot.domain.projects.CATEGORIES
    unit: Mapped[str] = mapped_column(String(128))  # 负责单位
    contact: Mapped[str] = mapped_column(String(64))  # the contractor's phone, shown to residents
    unit_openids: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the unit's people told of its cases
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|suspended|cancelled
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    places: Mapped[list[ProjectPlace]] = relationship(order_by="ProjectPlace.id")
    phases: Mapped[list[ProjectPhase]] = relationship(order_by="ProjectPhase.position")


class ProjectPlace(Base):
    """A compound (or one of its buildings) or a back alley a project touches."""

    __tablename__ = "project_places"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))  # None: the whole compound
    alley: Mapped[str | None] = mapped_column(String(64))  # a 背街小巷 outside any compound
    compound: Mapped[Compound | None] = relationship()
    building: Mapped[Building | None] = relationship()


class ProjectPhase(Base):
    """A phase of a project with its dates (local calendar days, both inclusive)."""

    __tablename__ = "project_phases"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime)  # when its works notice's sends were created


class ProjectCase(Base):
    """A case linked to the project whose works it is about (施工扰民)."""

    __tablename__ = "project_cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("project_phases.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
