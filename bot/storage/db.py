"""Database engine and per-request sessions (SQLite by default, PostgreSQL in production)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from redis.exceptions import RedisError
from sqlalchemy import Engine, Insert, Table, create_engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Mapper, Session, sessionmaker
from sqlalchemy.orm.attributes import instance_state

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so several processes can write."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # WAL persists in the file; setting
                cur.execute("PRAGMA journal_mode=WAL")  # it again needs a lock another writer may hold
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def connect(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """An engine and its session factory (no I/O happens here)."""
    engine = make_engine(url)
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "after_transaction_end", _forget_cached)
    event.listen(factory, "after_commit", _run_on_commit)
    event.listen(factory, "after_rollback", _drop_on_commit)
    return engine, factory


def insert_ignoring(session: Session, table: Table, key: str) -> Insert:
    """INSERT … ON CONFLICT (key) DO NOTHING in the session's dialect (SQLite or PostgreSQL)."""
    return insert_ignoring_for(session.get_bind().dialect.name, table, key)


@lru_cache(maxsize=16)
def insert_ignoring_for(dialect: str, table: Table, key: str) -> Insert:
    """INSERT … ON CONFLICT (key) DO NOTHING for a dialect name ("sqlite" or "postgresql")."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])


def dialect_upsert(session: Session, table: Table, keys: tuple[str, ...], update: tuple[str, ...]) -> Insert:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET the `update` columns to the new row's values."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = module.insert(table)
    upsert: Insert = statement.on_conflict_do_update(index_elements=list(keys),
                                                     set_={name: statement.excluded[name] for name in update})
    return upsert


def cache(session: Session, name: str) -> dict[Any, Any]:
    """A dict that lives as long as the message: the session's current transaction, or until the answering job's
    batch goes on to its next message (next_message). Lookups done once per message."""
    caches: dict[str, dict[Any, Any]] = session.info.setdefault("mulin.cache", {})
    return caches.setdefault(name, {})


def next_message(session: Session) -> None:
    """The transaction goes on to another message (the answering job answers a batch in one transaction): what
    `cache` holds is looked up again, as in a transaction of its own."""
    session.info.pop("mulin.cache", None)


def for_transaction(session: Session, name: str) -> dict[Any, Any]:
    """A dict that lives as long as the session's transaction, across the messages of a batch: what the
    transaction has written that another store (Redis) sees only after the commit, and what was read ahead."""
    kept: dict[str, dict[Any, Any]] = session.info.setdefault(_TRANSACTION, {})
    return kept.setdefault(name, {})


_TRANSACTION = "mulin.transaction"


def _forget_cached(session: Session, transaction: Any) -> None:
    session.info.pop("mulin.cache", None)
    if transaction.parent is None:  # the whole transaction ended (committed or rolled back)
        session.info.pop(_TRANSACTION, None)


def before_commit(session: Session, statement: Any, params: dict[str, Any]) -> None:
    """Run a Core statement just before the session's transaction commits (dropped if it rolls back). On SQLite
    the first write of a transaction takes the database's one write lock until the commit: a write that nothing
    in the transaction reads back (the resident's last contact) is better made last, so other processes
    (the web workers storing a flood) wait less."""
    session.info.setdefault(_BEFORE_COMMIT, []).append((statement, params))


_BEFORE_COMMIT = "mulin.before_commit"


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    for statement, params in session.info.pop(_BEFORE_COMMIT, []):
        session.connection().execute(statement, params)


@event.listens_for(Session, "after_transaction_end")
def _drop_before_commit(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # committed (written already) or rolled back: nothing is kept
        session.info.pop(_BEFORE_COMMIT, None)


def on_commit(session: Session, fn: Callable[[], None]) -> None:
    """Run fn once the session's transaction commits (never if it rolls back), e.g. a Redis write
    that must not get ahead of the database."""
    session.info.setdefault("mulin.on_commit", []).append(fn)


def _run_on_commit(session: Session) -> None:
    for fn in session.info.pop("mulin.on_commit", []):
        try:
            fn()
        except RedisError:  # the database already holds the truth; a lost dialogue step is recoverable
            log.warning("after-commit step skipped: Redis is unavailable")


def _drop_on_commit(session: Session) -> None:
    session.info.pop("mulin.on_commit", None)


T = TypeVar("T")


def as_loaded(session: Session, cls: type[T], values: dict[str, Any]) -> T:
    """A row written or read with a Core statement (the primary key in `values`), as an ORM object of the session
    as if a query had loaded it: no SELECT, nothing to flush; a column not in `values` loads when read.

    Registered the way SQLAlchemy's loader registers a row it read (sqlalchemy.orm.loading: the identity key, the
    session, the identity map), not by make_transient_to_detached and Session.add, whose cascade walk and checks
    cost twice the rest on the path of every report. No attach events run (Mulin listens to none)."""
    mapper = inspect(cls)
    row: T = mapper.class_manager.new_instance()
    state = instance_state(row)
    state.dict.update(values)
    primary_key, columns = _shape(cls)
    key = mapper.identity_key_from_primary_key([values[name] for name in primary_key])
    if key in session.identity_map:
        raise InvalidRequestError(f"{cls.__name__} {key[1]} is in the session already")  # as Session.add
    state.key, state.session_id = key, session.hash_key
    session.identity_map._add_unpresent(state, key)
    missing = columns - values.keys()
    if missing:
        state._expire_attributes(state.dict, missing)
    return row


def _shape(cls: type) -> tuple[tuple[str, ...], frozenset[str]]:
    """A mapped class's primary key attributes and all its column attributes (found once per class)."""
    found = _SHAPES.get(cls)
    if found is None:
        mapper: Mapper[Any] = inspect(cls)
        found = _SHAPES[cls] = (tuple(mapper.get_property_by_column(column).key for column in mapper.primary_key),
                                frozenset(attr.key for attr in mapper.column_attrs))
    return found


_SHAPES: dict[type, tuple[tuple[str, ...], frozenset[str]]] = {}
