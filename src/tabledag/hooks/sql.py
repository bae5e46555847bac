"""Hooks for SQL already in text or sqlglot form: sqlglot expressions, SQL strings, RawSql."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from ..outputs import RawSql, Table
from ..stores.sql.store import SQLTableStore
from .base import CanMatResult, CanRetResult, TableHook


@SQLTableStore.register_table()
class SqlglotTableHook(TableHook[SQLTableStore]):
    """sqlglot queries: written with CREATE TABLE AS; inputs as `sqlglot.exp.Table` references."""

    materializes = ("sqlglot.exp.Query",)
    retrieves = ("sqlglot.exp.Table",)

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(issubclass(type_, exp.Query | exp.Table))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(isinstance(type_, type) and issubclass(type_, exp.Expression))

    @classmethod
    def materialize(cls, store: SQLTableStore, table: Table, stage_name: str) -> None:
        store.write_query(table, stage_name, _as_query(table.obj))

    @classmethod
    def retrieve(
        cls,
        store: SQLTableStore,
        table: Table,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> exp.Table:
        return store.physical(table)

    @classmethod
    def lazy_query_str(cls, store: SQLTableStore, obj: Any) -> str:
        return store.canonical_sql(_as_query(obj))


@SQLTableStore.register_table()
class SqlTextTableHook(TableHook[SQLTableStore]):
    """A SELECT statement as text, parsed in the store's dialect; inputs as `schema.table` text."""

    materializes = ("str (SQL)",)
    retrieves = ("str",)

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(issubclass(type_, str))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(type_ is str)

    @classmethod
    def materialize(cls, store: SQLTableStore, table: Table, stage_name: str) -> None:
        store.write_query(table, stage_name, store.parse_sql(table.obj))

    @classmethod
    def retrieve(
        cls,
        store: SQLTableStore,
        table: Table,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> str:
        return store.dialect.render(store.physical(table))

    @classmethod
    def lazy_query_str(cls, store: SQLTableStore, obj: Any) -> str:
        return store.canonical_sql(store.parse_sql(obj))


@SQLTableStore.register_table()
class RawSqlTableHook(TableHook[SQLTableStore]):
    """`RawSql`: a query passed verbatim; its normalised text is its identity."""

    materializes = ("tabledag.RawSql",)

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(issubclass(type_, RawSql))

    @classmethod
    def materialize(cls, store: SQLTableStore, table: Table, stage_name: str) -> None:
        store.write_raw_sql(table, stage_name, table.obj.sql)

    @classmethod
    def lazy_query_str(cls, store: SQLTableStore, obj: Any) -> str:
        return obj.sql.strip()


def _as_query(obj: exp.Expression) -> exp.Query:
    if isinstance(obj, exp.Table):
        return exp.select("*").from_(obj)
    return obj
