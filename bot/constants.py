"""The stored codes Mulin compares and writes, one home each (values are what the database holds)."""
from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """A case's place in its lifecycle: open → in_progress → resolved → closed (reopen → open)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# Cases a department still has to deal with (the overdue reminders, the resident's 我的工单, 三率).
OPEN_STATUSES: tuple[CaseStatus, ...] = (CaseStatus.OPEN, CaseStatus.IN_PROGRESS)
# Cases the department has finished (a satisfaction follow-up may be asked about them).
DONE_STATUSES: tuple[CaseStatus, ...] = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


class FollowupState(StrEnum):
    """Where a case's satisfaction follow-up stands."""

    ASKED = "asked"
    REMINDED = "reminded"
    ANSWERED = "answered"
    EXPIRED = "expired"


# A resident who was asked and has not answered yet.
AWAITING_ANSWER: tuple[FollowupState, ...] = (FollowupState.ASKED, FollowupState.REMINDED)


class Satisfaction(StrEnum):
    """The resident's rating of a resolved case (stored in Chinese, as residents write it)."""

    SATISFIED = "满意"
    BASIC = "基本满意"
    UNSATISFIED = "不满意"
    NOT_RATED = "未评价"  # no answer to the follow-up and its reminder


RATED: tuple[Satisfaction, ...] = (Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.UNSATISFIED)


class OutboxStatus(StrEnum):
    """A send in the outbox."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNCERTAIN = "uncertain"  # no answer came (a read timeout): WeChat may have delivered it; never resent alone
    HELD = "held"  # a non-urgent staff alert waiting for its recipient's next summary (scheduler/staff_alert_jobs.py)
    BATCHED = "batched"  # a held staff alert told in a summary (the summary is its own row)


class Receipt(StrEnum):
    """WeChat's delivery receipt for a sent template message or subscription notice (TEMPLATESENDJOBFINISH,
    subscribe_msg_sent_event); a sent row without one is still queued at WeChat."""

    DELIVERED = "delivered"
    USER_BLOCK = "user_block"  # the resident refuses the account's messages
    SYSTEM_FAILED = "system_failed"  # WeChat could not deliver it


class DeliveryState(StrEnum):
    """Where one planned message stands, each in exactly one state (notice progress, the case page)."""

    SCHEDULED = "scheduled"  # its send time has not come (not yet in the outbox)
    PENDING = "pending"  # in the outbox, not yet sent
    QUEUED = "queued"  # accepted by WeChat, its delivery receipt not yet in
    DELIVERED = "delivered"
    FAILED = "failed"  # refused by WeChat, not reachable, or a failure receipt
    UNCERTAIN = "uncertain"  # no answer came: it may have been delivered
    CANCELLED = "cancelled"


class MediaStatus(StrEnum):
    """A resident's photo or voice being kept (media_files)."""

    PENDING = "pending"
    STORED = "stored"
    FAILED = "failed"  # WeChat's 3 days are over, or it refused for good


class InboundStatus(StrEnum):
    """A stored inbound message."""

    RECEIVED = "received"  # being answered now, or stranded by a failure
    QUEUED = "queued"  # stored and acknowledged with `success`; the scheduler answers it soon
    HANDLED = "handled"
    FAILED = "failed"


# Messages whose answer is still owed.
UNANSWERED: tuple[InboundStatus, ...] = (InboundStatus.QUEUED, InboundStatus.RECEIVED)


class Purpose(StrEnum):
    """Why a message is sent (also picks the template message outside the 48-hour window)."""

    REPLY = "reply"
    CASE_STATUS = "case_status"
    STAFF = "staff"
    NOTICE = "notice"
    FOLLOWUP = "followup"
    SUMMARY = "summary"


# Sends a resident receives (the console's conversation view shows these).
RESIDENT_PURPOSES: tuple[Purpose, ...] = (Purpose.REPLY, Purpose.CASE_STATUS, Purpose.FOLLOWUP, Purpose.NOTICE)
# Bulk sends, drained in their own job so a 10,000-resident notice never delays a reply.
BULK_PURPOSES: tuple[Purpose, ...] = (Purpose.NOTICE,)


class NoticeStatus(StrEnum):
    """A hallway-cleanup notice."""

    ACTIVE = "active"
    CANCELLED = "cancelled"


class MulinfangRole(StrEnum):
    """A member's part in a building's 睦邻坊 group (stored in Chinese, as staff say it)."""

    PARTY_MEMBER = "党员"
    LONG_TIME_RESIDENT = "老住户"
    SOCIAL_WORKER = "社工"
    VOLUNTEER = "志愿者"
    DOOR_CAPTAIN = "楼门长"


class MemberStatus(StrEnum):
    """A 睦邻坊 membership: applied by chat and waiting for the community, active, or declined."""

    APPLIED = "applied"
    ACTIVE = "active"
    REJECTED = "rejected"  # an application the community declined (kept as a record; may apply again)


class Department(StrEnum):
    """A team of the street; the first seven own cases, the last two only receive messages."""

    PROPERTY = "property"  # 物业公司
    GRID = "grid"  # 网格员/调解员
    ENFORCEMENT = "enforcement"  # 城管执法队
    HEALTH = "health"  # 卫生所及消杀公司
    REPAIR = "repair"  # 失管小区应急抢修队
    COMMUNITY = "community"  # 社区居委会
    PROJECT = "project"  # 整治项目负责单位: a renovation project's responsible unit (bot/domain/projects.py)
    SUPERVISOR = "supervisor"  # told of overdue cases
    ADMIN = "admin"  # the weekly summary


# Departments a case can be routed or reassigned to.
CASE_DEPARTMENTS: tuple[Department, ...] = (
    Department.PROPERTY, Department.GRID, Department.ENFORCEMENT, Department.HEALTH, Department.REPAIR,
    Department.COMMUNITY, Department.PROJECT,
)
# Departments staff may belong to (import-staff): every one, so the summary and overdue notices reach people.
STAFF_DEPARTMENTS: tuple[Department, ...] = tuple(Department)


class Role(StrEnum):
    """A console user's role."""

    ADMIN = "admin"
    STAFF = "staff"


class Priority(StrEnum):
    """How urgent a case is; declared lowest first."""

    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"
    CRITICAL = "critical"


PRIORITIES: tuple[Priority, ...] = tuple(Priority)  # lowest first

