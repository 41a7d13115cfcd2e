"""After a run: was every stored message answered, in order per resident, none twice? From the database alone."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, create_engine, text

LATE = "late-reply:"  # the outbox key of an answer the scheduler gave (scheduler/replay_jobs.py)


@dataclass
class Verdict:
    """What the rows say; `ok` when nothing is missing, doubled or out of order."""

    messages: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    late: int = 0  # answered by the scheduler, as a customer-service message in the outbox
    unanswered: int = 0  # still queued or being answered
    silent: int = 0  # handled, but with no answer at all
    twice: int = 0  # more than one answer for one message
    orphans: int = 0  # an outbox answer for a message not marked answered
    out_of_order: int = 0  # residents whose answers came in another order than their messages

    @property
    def ok(self) -> bool:
        return not (self.unanswered or self.silent or self.twice or self.orphans or self.out_of_order)

    def line(self) -> str:
        """One line for the report."""
        inline = self.messages - self.late - self.unanswered
        head = "OK" if self.ok else "FAILED"
        return (f"{head}: {self.messages} messages, {inline} answered in the reply, {self.late} by the scheduler; "
                f"unanswered {self.unanswered}, without an answer {self.silent}, answered twice {self.twice}, "
                f"outbox answers for unanswered messages {self.orphans}, residents out of order {self.out_of_order}"
                f" (statuses {self.statuses})")


def check(database_url: str) -> Verdict:
    """Read inbound_messages and the outbox's late answers and judge them."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select id, openid, status, reply, handled_at from inbound_messages order by id")).all()
        late_rows = conn.execute(text(
            "select key, id from outbox where purpose = 'reply' and key like :late order by id"),
            {"late": LATE + "%"}).all()
    engine.dispose()
    verdict = Verdict(messages=len(rows), statuses=dict(Counter(row.status for row in rows)))
    late: dict[int, list[int]] = defaultdict(list)
    for key, outbox_id in late_rows:
        late[int(key[len(LATE):])].append(outbox_id)
    answered = {row.id for row in rows if row.status in ("handled", "failed")}
    verdict.late = sum(1 for message_id in late if message_id in answered)
    verdict.twice = sum(1 for ids in late.values() if len(ids) > 1)
    verdict.orphans = sum(1 for message_id in late if message_id not in answered)
    verdict.unanswered = sum(1 for row in rows if row.status in ("queued", "received"))
    verdict.silent = sum(1 for row in rows if row.id in answered and not row.reply)
    verdict.out_of_order = _out_of_order(rows, late)
    return verdict


def _out_of_order(rows: Sequence[Row[Any]], late: dict[int, list[int]]) -> int:
    """Residents with a message answered before their earlier one.

    Two late answers compare by outbox row (the order they are sent in; handled_at is when the job's run
    began, and two answering processes' runs overlap); any other pair by handled_at.
    """
    previous: dict[str, Row[Any]] = {}
    residents = set()
    for row in rows:  # in id order: the order the messages were stored
        if row.handled_at is None:
            continue
        before = previous.get(row.openid)
        if before is not None and _answered_before(row, before, late):
            residents.add(row.openid)
        previous[row.openid] = row
    return len(residents)


def _answered_before(row: Row[Any], earlier: Row[Any], late: dict[int, list[int]]) -> bool:
    """Whether `row` was answered before the resident's `earlier` message."""
    if late.get(row.id) and late.get(earlier.id):
        return late[row.id][0] < late[earlier.id][0]
    return _naive(row.handled_at) < _naive(earlier.handled_at)


def _naive(value: datetime | str) -> datetime:
    """SQLite hands text back through a text() query; PostgreSQL a datetime."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
