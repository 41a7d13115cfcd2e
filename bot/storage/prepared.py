"""Core statements of the answer path, compiled once per dialect and run on the DBAPI cursor of the connection.

Every queued report runs the same few statements (the resident read, the case number, the case, its event, the
message marked answered). SQLAlchemy's per-execution work (the execution context, the parameters rebuilt and
processed per statement, the result object) cost more than SQLite's own execute: sampled with py-spy over 3,000
queued reports it was about a fifth of a report's CPU. A `Prepared` statement keeps what SQLAlchemy compiled for
the dialect (the SQL, the parameter order, the literal values) with SQLAlchemy's own type processors for parameters
and results (datetimes, JSON, booleans), and executes on the cursor of the same connection: in the caller's
transaction. The engine's `before_cursor_execute` listeners still hear each statement (the benches count statements
with one). bot.messaging.inbound_queue's writer runs the compiled form of the burst path's one insert on a DBAPI
connection of its own; the outbox inserts a message's sends in one executemany.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.expression import Executable

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter names in order ("?" styles); None: named parameters
    literals: dict[str, Any]  # values the statement carries itself (LIMIT 1, value + 1)
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # parameter name, its type's processor
    keys: tuple[str, ...]  # the result's column names
    results: tuple[_Processor, ...]  # per result column

    pick: Callable[[dict[str, Any]], tuple[Any, ...]] | None  # the parameters in `order`, as a tuple
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]  # the result columns that have a processor

    def parameters(self, values: Mapping[str, Any]) -> Any:
        params = {**self.literals, **values}
        for name, process in self.binds:
            params[name] = process(params[name])
        return self.pick(params) if self.pick is not None else params

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if len(raw) != len(self.results):
            raise ValueError(f"a row of {len(raw)} columns for a result of {len(self.results)}")
        if not self.processed:
            return tuple(raw)
        row = list(raw)
        for index, process in self.processed:
            row[index] = process(row[index])
        return tuple(row)


class Prepared:
    """One statement; `columns`: the INSERT's or UPDATE's value columns when it has no `.values()` of its own."""

    def __init__(self, statement: Executable, columns: Sequence[str] | None = None) -> None:
        self._statement = statement
        self._columns = list(columns) if columns is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        """The statement as compiled for the dialect (once): its SQL and its parameters for a DBAPI cursor."""
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self._statement, self._columns, dialect)
        return found

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute and fetch every row of the result (RETURNING or SELECT), processed as SQLAlchemy would."""
        compiled = self.compiled(connection.dialect)
        cursor = _execute(connection, compiled.sql, compiled.parameters(values))
        try:
            return [compiled.row(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def mappings(self, connection: Connection, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """As rows, each a dict by column name."""
        keys = self.compiled(connection.dialect).keys
        return [dict(zip(keys, row, strict=True)) for row in self.rows(connection, values)]

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Execute a statement without a result; the rows it changed."""
        compiled = self.compiled(connection.dialect)
        cursor = _execute(connection, compiled.sql, compiled.parameters(values))
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute a statement without a result once per row, in one DBAPI executemany (an INSERT of rows)."""
        compiled = self.compiled(connection.dialect)
        _execute(connection, compiled.sql, [compiled.parameters(values) for values in rows], many=True).close()


def _execute(connection: Connection, sql: str, params: Any, many: bool = False) -> Any:
    """The statement on a cursor of the connection's DBAPI connection, its listeners told first; the cursor."""
    cursor = connection.connection.cursor()
    try:
        hooks = connection.dispatch.before_cursor_execute
        if hooks:
            hooks(connection, cursor, sql, params, None, many)
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except BaseException:
        cursor.close()
        raise
    return cursor


def _compile(statement: Executable, columns: list[str] | None, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=columns)  # type: ignore[attr-defined]
    if "POSTCOMPILE" in compiled.string:  # an expanding IN is rewritten per execution: not here
        raise ValueError("a prepared statement needs in_() of literal() values, not of a list")
    names = compiled.bind_names.items()
    literals = {name: bind.effective_value for bind, name in names if not bind.required}
    processors = ((name, _bind_processor(bind.type.dialect_impl(dialect), dialect)) for bind, name in names)
    exported = list(getattr(statement, "exported_columns", ()))
    order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in exported)
    return _Compiled(
        sql=compiled.string, order=order, literals=literals,
        binds=tuple((name, p) for name, p in processors if p is not None),
        keys=tuple(column.key for column in exported), results=results, pick=_picker(order),
        processed=tuple((index, process) for index, process in enumerate(results) if process is not None))


def _picker(order: tuple[str, ...] | None) -> Callable[[dict[str, Any]], tuple[Any, ...]] | None:
    """The parameters of a "?" style statement in order, picked in C (itemgetter); None for named parameters."""
    if order is None:
        return None
    if len(order) < 2:  # itemgetter of one name gives the value itself, of none is an error
        return lambda params: tuple(params[name] for name in order)
    return itemgetter(*order)


def _bind_processor(impl: Any, dialect: Dialect) -> _Processor:
    """The type's processor; for SQLite's DATETIME in its default format one that writes the same text for a naive
    datetime in half the time (isoformat, not a format string filled from a dict: some twenty per report)."""
    process = impl.bind_processor(dialect)
    if not isinstance(impl, sqlite.DATETIME) or impl._storage_format != sqlite.DATETIME._storage_format:
        return process  # type: ignore[no-any-return]

    def naive_isoformat(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")  # YYYY-MM-DD HH:MM:SS.ffffff, as the format writes it
        return process(value)

    return naive_isoformat
