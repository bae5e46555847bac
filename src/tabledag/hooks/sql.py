"""Hooks for SQL already in text or sqlglot form: sqlglot expressions, SQL strings, RawSql.

Inputs come as references the task's SQL can select from; with a `limit` they are a subquery
of the first rows instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..outputs import RawSql
from ..stores.base import Capability, Lazy, Raw, TableStore
from .base import CanMatResult, CanRetResult, TableHook, text_fingerprint

if TYPE_CHECKING:
    from ..outputs import Table, TableRef
    from ..stores.base import StoreSession


@TableStore.register_table()
class SqlglotTableHook(TableHook[TableStore]):
    """sqlglot queries: written with CREATE TABLE AS; inputs as `sqlglot.exp.Table` references."""

    materializes = ("sqlglot.exp.Query",)
    retrieves = ("sqlglot.exp.Table",)
    requires = frozenset({Capability.SQL})

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(issubclass(type_, exp.Query | exp.Table))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(isinstance(type_, type) and issubclass(type_, exp.Expression))

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Lazy:
        obj = table.obj
        return Lazy.of(exp.select("*").from_(obj) if isinstance(obj, exp.Table) else obj)

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> exp.Expr:
        return _limited(store.sql_table(table), table, limit)


@TableStore.register_table()
class SqlTextTableHook(TableHook[TableStore]):
    """A SELECT statement as text, parsed in the store's dialect; inputs as `schema.table` text."""

    materializes = ("str (SQL)",)
    retrieves = ("str",)
    requires = frozenset({Capability.SQL})

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(issubclass(type_, str))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(type_ is str)

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Lazy:
        text = table.obj
        fingerprint = text_fingerprint("sql", store, text)
        return Lazy(lambda: store.parse_sql(text), fingerprint=fingerprint, owned=True)

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> str:
        return store.render(_limited(store.sql_table(table), table, limit))


@TableStore.register_table()
class RawSqlTableHook(TableHook[TableStore]):
    """`RawSql`: a query passed verbatim; its normalised text is its identity."""

    materializes = ("tabledag.RawSql",)
    requires = frozenset({Capability.SQL})

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(issubclass(type_, RawSql))

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Raw:
        return Raw(table.obj.sql)


def _limited(target: exp.Table, ref: TableRef, limit: int | None) -> exp.Expr:
    if limit is None:
        return target
    query = exp.select("*").from_(target).limit(limit)
    return query.subquery(exp.to_identifier(ref.name, quoted=True))
