"""An overloaded web worker only stores (queues) messages; the scheduler answers them in order."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event, select, update

from bot import create_app
from bot.clock import utcnow
from bot.messaging.inbound import Inbound
from bot.services import services
from bot.storage.models import InboundMessage, Resident
from bot.web.load import LoadGauge
from scheduler.jobs import drain_outbox, replay_inbound
from tests.conftest import AES_KEY, APPID, TOKEN
from tests.helpers_intake import BOUND, cases_of, outbox
from tests.wechat import WeChat


class Clock:
    """A hand-moved monotonic clock for the gauge."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_gauge_is_the_recent_share_of_time_spent_answering() -> None:
    clock = Clock()
    gauge = LoadGauge(limit=0.5, window=1.0, clock=clock)
    assert gauge.share() == 0 and not gauge.overloaded()
    for _ in range(200):  # 30 ms of work in every 100 ms: 30% busy
        clock.now += 0.1
        gauge.add(0.03)
    assert gauge.share() == pytest.approx(0.3, abs=0.03) and not gauge.overloaded()
    for _ in range(100):  # then 80% busy: over the limit
        clock.now += 0.1
        gauge.add(0.08)
    assert gauge.share() == pytest.approx(0.8, abs=0.06) and gauge.overloaded()
    clock.now += 3  # quiet for three seconds: back to answering inline
    assert gauge.share() < 0.05 and not gauge.overloaded()


def test_gauge_counts_work_from_many_threads() -> None:
    clock = Clock()
    gauge = LoadGauge(limit=0.5, window=1.0, clock=clock)

    def work() -> None:
        for _ in range(1000):
            gauge.add(0.0001)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gauge.share() == pytest.approx(0.8)  # no lost updates: 8 × 1000 × 0.1 ms


def test_a_burst_is_logged_once_a_minute(caplog) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    gauge = LoadGauge(limit=0.5, window=1.0, clock=clock)
    gauge.add(0.9)
    with caplog.at_level("WARNING", logger="bot.web.load"):
        assert all(gauge.overloaded() for _ in range(50))
        clock.now += 0.01
        gauge.add(0.5)
        assert gauge.overloaded()
    assert len([r for r in caplog.records if "queued" in r.getMessage()]) == 1


def test_every_webhook_request_counts_whole_not_only_the_view(settings) -> None:  # type: ignore[no-untyped-def]
    """A worker flooded with cheap queued messages spends most of its time outside the view (Flask's own
    work): the gauge must see that time too, or the worker hovers at the limit and keeps answering inline."""
    application = create_app({**settings, "INLINE_BUSY_LIMIT": 0.3})
    clock = Clock()
    gauge = services(application).load = LoadGauge(0.3, clock=clock)
    client = application.test_client()
    client.get("/wechat")  # 400: missing parameters, yet the worker was busy with it
    first = gauge.share()
    assert first > 0
    client.post("/wechat")
    assert gauge.share() > first
    services(application).engine.dispose()


def test_console_and_login_requests_do_not_count(settings) -> None:  # type: ignore[no-untyped-def]
    """A flood of logins or console pages must not push residents' messages into the queue."""
    application = create_app({**settings, "INLINE_BUSY_LIMIT": 0.3})
    gauge = services(application).load = LoadGauge(0.3, clock=Clock())
    client = application.test_client()
    for _ in range(20):
        client.get("/console/login")
        client.post("/console/login", data={"username": "admin", "password": "wrong"})
        client.get("/no-such-page")
        client.get("/wechat/../console/login")
    assert gauge.share() == 0
    services(application).engine.dispose()


def test_limits_zero_and_one_mean_always_and_never() -> None:
    clock = Clock()
    assert LoadGauge(limit=0.0, clock=clock).overloaded()
    never = LoadGauge(limit=1.0, clock=clock)
    never.add(5.0)  # saturated, even several threads at once
    assert not never.overloaded()


@pytest.fixture
def busy(settings: dict[str, object]) -> Iterator[Flask]:
    """A second web worker on the same database and Redis, saturated: it queues every message."""
    application = create_app({**settings, "INLINE_BUSY_LIMIT": 0.0})
    yield application
    services(application).engine.dispose()


def _pusher(application: Flask) -> WeChat:
    return WeChat(application.test_client(), TOKEN, APPID, AES_KEY)


def _stored(db, openid: str) -> list[InboundMessage]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return list(db.scalars(select(InboundMessage).where(InboundMessage.openid == openid)
                           .order_by(InboundMessage.id)).all())


def test_queued_report_is_answered_by_the_scheduler_once(app, busy, street, standin) -> None:  # type: ignore[no-untyped-def]
    pusher = _pusher(busy)
    first = pusher.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND, msg_id=7001)
    assert first.status == 200 and first.body == "success"  # no error for the resident, no retry
    retry = pusher.send_text("楼上漏水，天花板一直往下滴水", openid=BOUND, msg_id=7001)
    assert retry.body == "success"
    [row] = _stored(street, BOUND)
    assert row.status == "queued" and cases_of(street, BOUND) == []

    assert replay_inbound(app, utcnow())["replayed"] == 1  # at once: no need to wait for WeChat's retries
    [case] = cases_of(street, BOUND)
    assert case.created_at == row.received_at  # the case's clock starts when the resident wrote
    [answer] = outbox(street, "reply", BOUND)
    assert case.number in answer.payload["text"]
    assert _stored(street, BOUND)[0].status == "handled"
    drain_outbox(app, utcnow())
    [sent] = standin.sent("custom")
    assert sent["openid"] == BOUND and case.number in sent["body"]["text"]["content"]
    assert replay_inbound(app, utcnow())["replayed"] == 0
    assert len(cases_of(street, BOUND)) == 1


def _contact(db, openid: str):  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalars(select(Resident).where(Resident.openid == openid)).one().last_inbound_at


def test_a_late_answer_opens_the_window_from_when_the_resident_wrote_never_back(app, busy, street) -> None:  # type: ignore[no-untyped-def]
    pusher = _pusher(busy)
    street.execute(update(Resident).where(Resident.openid == BOUND).values(last_inbound_at=None))
    street.commit()
    assert pusher.send_text("楼道里堆满了杂物", openid=BOUND, msg_id=7101).body == "success"
    [row] = _stored(street, BOUND)
    assert _contact(street, BOUND) is None  # queued: not answered yet
    assert replay_inbound(app, utcnow())["replayed"] == 1
    assert _contact(street, BOUND) == row.received_at  # the 48 hours count from the message, not the answer

    later = utcnow() + timedelta(minutes=10)  # as if a later message had been recorded meanwhile
    street.execute(update(Resident).where(Resident.openid == BOUND).values(last_inbound_at=later))
    street.commit()
    assert pusher.send_text("还有楼道灯也不亮", openid=BOUND, msg_id=7102).body == "success"
    assert replay_inbound(app, utcnow())["replayed"] == 1
    assert [r.status for r in _stored(street, BOUND)] == ["handled", "handled"]
    assert _contact(street, BOUND) == later


def test_later_message_waits_behind_its_residents_queued_one(app, busy, street, wechat) -> None:  # type: ignore[no-untyped-def]
    """The address must not be read before the report it answers: one resident's messages keep their order."""
    new = "o-burst-new"
    assert _pusher(busy).send_text("厨房水管漏水了", openid=new).body == "success"
    later = wechat.send_text("马连道南口三区5号楼2单元1501", openid=new)  # this worker is not busy
    assert later.body == "success"
    assert [r.status for r in _stored(street, new)] == ["queued", "queued"]

    other = wechat.send_text("家里有蟑螂", openid=BOUND)  # other residents are answered inline as usual
    assert other.text and cases_of(street, BOUND)[0].number in other.text

    assert replay_inbound(app, utcnow())["replayed"] == 2
    [case] = cases_of(street, new)
    assert case.intent == "leak" and case.building is not None and case.building.name.startswith("5")
    asked, created = [row.payload["text"] for row in outbox(street, "reply", new)]
    assert "地址" in asked and case.number in created


def test_a_residents_report_and_address_answered_together_in_a_quiet_queue(app, busy, street) -> None:  # type: ignore[no-untyped-def]
    """A quiet queue is answered a chunk at a time in one transaction: the address after the report still finds the
    question the report's answer asked (the dialogue state of the same transaction), and both answers go out."""
    from scheduler.replay_jobs import ARRIVING, replay
    new = "o-quiet-pair"
    _pusher(busy).send_text("厨房水管漏水了", openid=new)
    _pusher(busy).send_text("马连道南口三区5号楼2单元1501", openid=new)
    _pusher(busy).send_text("家里有蟑螂", openid=BOUND)
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(services(app).engine, "commit", committed)
    try:
        assert replay(app, utcnow() + ARRIVING) == 3
    finally:
        event.remove(services(app).engine, "commit", committed)
    assert len(commits) == 2  # the chunk's claim, then its three answers together (one by one: four commits)
    [case] = cases_of(street, new)
    assert case.intent == "leak" and case.building is not None and case.building.name == "5"
    asked, created = [row.payload["text"] for row in outbox(street, "reply", new)]
    assert "地址" in asked and case.number in created
    assert services(app).redis.get(f"mulin:dialogue:{new}") is not None  # the state the last answer left: 补充
    assert [c.intent for c in cases_of(street, BOUND)] == ["pest"]


def test_message_waits_behind_one_the_scheduler_is_answering(app, busy, street, wechat) -> None:  # type: ignore[no-untyped-def]
    from bot.messaging import inbound
    new = "o-burst-claimed"
    _pusher(busy).send_text("厨房水管漏水了", openid=new)
    [first] = _stored(street, new)
    assert inbound.claim(street, first, utcnow(), statuses=(inbound.QUEUED,))  # as the scheduler starts on it
    assert wechat.send_text("马连道南口三区5号楼2单元1501", openid=new).body == "success"
    assert [r.status for r in _stored(street, new)] == ["received", "queued"]
    assert replay_inbound(app, utcnow() + timedelta(minutes=2))["replayed"] == 2  # in order, once the lease is gone
    [case] = cases_of(street, new)
    assert case.intent == "leak" and case.building is not None


def test_webhook_feeds_the_gauge_and_queues_while_busy(settings, street) -> None:  # type: ignore[no-untyped-def]
    """Every /wechat request counts towards the worker's load; past the limit messages queue; quiet again, inline."""
    application = create_app({**settings, "INLINE_BUSY_LIMIT": 0.5})
    clock = Clock()
    gauge = services(application).load = LoadGauge(0.5, clock=clock)
    pusher = _pusher(application)

    answered = pusher.send_text("家里有蟑螂", openid=BOUND)
    assert answered.text and cases_of(street, BOUND)
    assert gauge.share() > 0  # the request's own time was counted

    gauge.add(0.6)  # as if the last second had been spent on other residents' messages
    queued = pusher.send_text("楼道里堆满了杂物", openid="demo-resident-2")
    assert queued.body == "success" and [r.status for r in _stored(street, "demo-resident-2")] == ["queued"]

    clock.now += 5  # the burst is over
    calm = pusher.send_text("家里停电了", openid="demo-resident-3")
    assert calm.text and "工单" in calm.text
    services(application).engine.dispose()


def _message(key: str) -> Inbound:
    from datetime import datetime

    return Inbound(dedup_key=f"o-writer:{key}", openid="o-writer", msg_type="text",
                           sent_at=datetime(2026, 11, 30, 1, 2, 3), content="楼道里堆了好多纸箱",
                           raw={"MsgId": key, "Content": "楼道里堆了好多纸箱", "CreateTime": 1700000000})


def test_queue_writer_stores_the_row_the_orm_reads(busy, db) -> None:  # type: ignore[no-untyped-def]
    """The burst path's own connection writes exactly what the ORM path would: types, JSON, times."""
    from datetime import datetime
    writer = services(busy).queue
    now = datetime(2026, 11, 30, 1, 2, 4, 567000)
    assert writer.store(_message("1"), now) is True
    assert writer.store(_message("1"), now) is False  # a retry: already stored, nothing written
    [row] = _stored(db, "o-writer")
    assert (row.status, row.msg_type, row.content) == ("queued", "text", "楼道里堆了好多纸箱")
    assert row.sent_at == datetime(2026, 11, 30, 1, 2, 3) and row.received_at == now
    assert row.raw == {"MsgId": "1", "Content": "楼道里堆了好多纸箱", "CreateTime": 1700000000}
    assert row.claimed_until is None and row.reply is None


def test_queue_writer_recovers_from_a_broken_connection(busy, db) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime
    writer = services(busy).queue
    assert writer.store(_message("a"), datetime(2026, 11, 30))
    writer._connection().driver_connection.close()  # as when the database server restarts
    with pytest.raises(sqlite3.ProgrammingError):  # "Cannot operate on a closed database"
        writer.store(_message("b"), datetime(2026, 11, 30))  # WeChat gets an error and retries
    assert writer.store(_message("b"), datetime(2026, 11, 30))  # the retry opens a new connection
    assert [r.dedup_key for r in _stored(db, "o-writer")] == ["o-writer:a", "o-writer:b"]


def test_queue_writer_never_shares_a_connection_across_fork(busy, db) -> None:  # type: ignore[no-untyped-def]
    """gunicorn --preload forks workers from one process: each must write on a connection of its own."""
    import multiprocessing
    from datetime import datetime
    writer = services(busy).queue
    assert writer.store(_message("parent"), datetime(2026, 11, 30))
    parent_conn = writer._connection()

    def child() -> None:
        assert writer._connection() is not parent_conn
        writer.store(_message("child"), datetime(2026, 11, 30))

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(30)
    assert process.exitcode == 0
    assert writer.store(_message("parent-again"), datetime(2026, 11, 30))
    assert [r.dedup_key for r in _stored(db, "o-writer")] == [
        "o-writer:parent", "o-writer:child", "o-writer:parent-again"]


def test_a_late_answer_is_queued_in_the_same_commit_that_marks_it_answered(app, busy, street) -> None:  # type: ignore[no-untyped-def]
    """A crash can come between any two commits: at each commit of the replay, look at the database
    from outside and check that no message is marked answered while its answer is not in the outbox."""
    from sqlalchemy import event, text
    pusher = _pusher(busy)
    for n, words in enumerate(["楼上漏水了", "楼道里堆满了杂物", "家里有老鼠"]):
        pusher.send_text(words, openid=f"o-crash-{n}")
    engine = services(app).engine
    orphans: list[int] = []

    def check(_session) -> None:  # type: ignore[no-untyped-def]
        with engine.connect() as outside:
            orphans.extend(outside.execute(text(
                "SELECT m.id FROM inbound_messages m WHERE m.openid LIKE 'o-crash-%' "
                "AND m.status IN ('handled', 'failed') AND m.reply IS NOT NULL AND m.reply != '' "
                "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.key = 'late-reply:' || m.id)")).scalars())

    factory = services(app).sessions
    event.listen(factory, "after_commit", check)
    try:
        assert replay_inbound(app, utcnow())["replayed"] == 3
    finally:
        event.remove(factory, "after_commit", check)
    assert orphans == []
    assert len([r for r in _stored(street, "o-crash-0") if r.status == "handled"]) == 1
    assert len(outbox(street, "reply", "o-crash-0")) == 1


def test_queue_writer_waits_out_another_writer(busy, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SQLite has one writer: while another process holds the write lock the burst path waits for it
    (polling finely, LOCKED_WAIT at most), then stores; past LOCKED_WAIT it gives up (the webhook then spools)."""
    import sqlite3
    from datetime import datetime

    from bot.messaging import inbound_queue
    writer = services(busy).queue
    path = services(busy).engine.url.database
    assert writer.store(_message("first"), datetime(2026, 11, 30))
    other = sqlite3.connect(path, timeout=15, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # as the scheduler does while it answers a message
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    assert writer.store(_message("waited"), datetime(2026, 11, 30))
    release.join()

    monkeypatch.setattr(inbound_queue, "LOCKED_WAIT", 0.2)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError):
        writer.store(_message("gave-up"), datetime(2026, 11, 30))
    other.execute("COMMIT")
    assert writer.store(_message("gave-up"), datetime(2026, 11, 30))  # WeChat's retry
    other.close()
    assert [r.dedup_key for r in _stored(db, "o-writer")] == ["o-writer:first", "o-writer:waited", "o-writer:gave-up"]


def test_a_locked_database_in_a_burst_keeps_the_message_and_answers_success(app, busy, street, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Another writer holds SQLite's lock past LOCKED_WAIT: the webhook still answers `success` in time, the
    message waits in Redis, and the scheduler stores and answers it once the database is free."""
    import sqlite3

    from bot.messaging import inbound_queue
    from scheduler.jobs import store_spooled
    monkeypatch.setattr(inbound_queue, "LOCKED_WAIT", 0.2)
    other = sqlite3.connect(services(busy).engine.url.database, timeout=15, isolation_level=None,
                            check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        reply = _pusher(busy).send_text("楼上漏水，天花板一直往下滴水", openid=BOUND, msg_id=7301)
        assert reply.status == 200 and reply.body == "success"
        retry = _pusher(busy).send_text("楼上漏水，天花板一直往下滴水", openid=BOUND, msg_id=7301)
        assert retry.status == 200  # WeChat's retry while still locked: spooled again, stored once
    finally:
        other.execute("COMMIT")
        other.close()
    assert _stored(street, BOUND) == []
    assert store_spooled(app, utcnow())["stored"] == 2
    [row] = _stored(street, BOUND)
    assert row.status == "queued" and row.content == "楼上漏水，天花板一直往下滴水"
    assert store_spooled(app, utcnow())["stored"] == 0
    assert replay_inbound(app, utcnow())["replayed"] == 1
    [case] = cases_of(street, BOUND)
    [answer] = outbox(street, "reply", BOUND)
    assert case.number in answer.payload["text"]


def test_later_message_waits_behind_its_residents_stranded_one(app, settings, street, wechat) -> None:  # type: ignore[no-untyped-def]
    """A report stranded while Redis was down is answered before the address sent after it, not after."""
    from scheduler.replay_jobs import replay
    new = "o-stranded"
    down = create_app({**settings, "REDIS_URL": "redis://127.0.0.1:1/0"})  # a worker whose Redis is gone
    try:
        assert "系统繁忙" in (_pusher(down).send_text("厨房水管漏水了", openid=new).text or "")
    finally:
        services(down).engine.dispose()
    assert wechat.send_text("马连道南口三区5号楼2单元1501", openid=new).body == "success"
    assert [r.status for r in _stored(street, new)] == ["received", "queued"]

    assert replay(app, utcnow()) == 0  # the report is too fresh to take over: the address waits behind it
    assert cases_of(street, new) == [] and outbox(street, "reply", new) == []
    assert replay(app, utcnow() + timedelta(minutes=2)) == 2
    [case] = cases_of(street, new)
    assert (case.intent, case.text) == ("leak", "厨房水管漏水了") and case.building is not None
    asked, created = [row.payload["text"] for row in outbox(street, "reply", new)]
    assert "地址" in asked and case.number in created


def test_a_message_the_scheduler_cannot_answer_holds_back_the_residents_later_ones(app, busy, settings, street) -> None:  # type: ignore[no-untyped-def]
    """Redis down for the scheduler: the report stays unanswered, and the address queued after it is given back."""
    from scheduler.replay_jobs import replay
    new = "o-held"
    _pusher(busy).send_text("厨房水管漏水了", openid=new)
    _pusher(busy).send_text("马连道南口三区5号楼2单元1501", openid=new)
    _pusher(busy).send_text("家里有蟑螂", openid=BOUND)  # another resident's message is not held back
    without_redis = create_app({**settings, "REDIS_URL": "redis://127.0.0.1:1/0"})
    try:
        replay(without_redis, utcnow())
    finally:
        services(without_redis).engine.dispose()
    assert [r.status for r in _stored(street, new)] == ["received", "queued"]
    assert cases_of(street, new) == [] and outbox(street, "reply", new) == []
    assert replay(app, utcnow() + timedelta(minutes=2)) == 3
    [case] = cases_of(street, new)
    assert (case.intent, case.text) == ("leak", "厨房水管漏水了") and case.building is not None
    assert [c.intent for c in cases_of(street, BOUND)] == ["pest"]
