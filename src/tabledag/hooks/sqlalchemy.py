"""SQLAlchemy selectables: compiled with literal values in the store's SQLAlchemy dialect, then
read by sqlglot as a query tree.

Inputs are `sqlalchemy.Table` objects with their columns and types from what the store recorded
(no catalogue query on a cached run), so they work in `select()` without an engine (DuckDB needs
no SQLAlchemy driver this way). As in pipedag, a task receives the table as an `Alias` named
by the logical table name, whose `.original` is the physical table (schema and name).
Compiling uses the `named` paramstyle: with literal binds there are no parameters, and
format-style escaping would double every `%` in names and operators.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ..stores.base import Capability, Lazy, TableStore
from .base import CanMatResult, CanRetResult, TableHook, parse_compiled, text_fingerprint, type_is

if TYPE_CHECKING:
    from ..outputs import Table, TableRef
    from ..stores.base import StoreSession


@TableStore.register_table()
class SQLAlchemyTableHook(TableHook[TableStore]):
    materializes = ("sqlalchemy.Select", "sqlalchemy.TextClause", "sqlalchemy.Table")
    retrieves = ("sqlalchemy.Table",)
    requires = frozenset({Capability.SQL})

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(
            type_is(type_, "sqlalchemy.sql.expression", "Selectable")
            or type_is(type_, "sqlalchemy.sql.expression", "TextClause")
        )

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(type_is(type_, "sqlalchemy", "Table"))

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Lazy:
        import sqlalchemy as sa

        sql, read = _compile(store, table.obj)
        fingerprint = text_fingerprint("sqlalchemy", store, sql)
        if isinstance(table.obj, sa.TextClause):  # the user's SQL, for the store's database
            return Lazy(lambda: store.parse_sql(sql), fingerprint=fingerprint, owned=True)
        return Lazy(
            lambda: parse_compiled(sql, read),  # a compiled SELECT
            fingerprint=fingerprint,
            owned=True,
        )

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        import sqlalchemy as sa

        target = store.sql_table(table)
        dialect = store.sqlglot_dialect
        columns = [
            sa.Column(name, _sa_type(dialect, kind)) for name, kind in store.column_types(table)
        ]
        result = sa.Table(target.name, sa.MetaData(), *columns, schema=target.db)
        if limit is not None:
            return sa.select(result).limit(limit).subquery(table.name)
        return result.alias(table.name)


def _compile(store: StoreSession, obj: Any) -> tuple[str, str]:
    """The SQL text of a selectable, and the sqlglot dialect that reads it."""
    import sqlalchemy as sa

    if isinstance(obj, sa.FromClause):
        obj = sa.select(sa.text("*")).select_from(obj)
    sa_name, read = store.sqlalchemy_dialect
    sql = str(obj.compile(dialect=_sa_dialect(sa_name), compile_kwargs={"literal_binds": True}))
    return sql, read


@functools.cache
def _sa_dialect(name: str) -> Any:
    from sqlalchemy.dialects import registry

    return registry.load(name)(paramstyle="named")


_SA_TYPES = {
    "SmallInteger": ("TINYINT", "SMALLINT", "UTINYINT", "USMALLINT"),
    "Integer": ("INT", "MEDIUMINT", "UMEDIUMINT"),
    "BigInteger": ("BIGINT", "UINT", "UBIGINT", "INT128", "UINT128", "HUGEINT"),
    "Double": ("DOUBLE",),
    "Boolean": ("BOOLEAN",),
    "Date": ("DATE", "DATE32"),
    "Time": ("TIME", "TIMETZ"),
    "LargeBinary": ("VARBINARY", "BINARY", "BLOB"),
    "String": ("VARCHAR", "TEXT", "CHAR", "NVARCHAR", "NCHAR", "NAME", "UUID"),
}
_BY_KIND = {kind: sa_name for sa_name, kinds in _SA_TYPES.items() for kind in kinds}


@functools.lru_cache(maxsize=1024)
def _sa_type(dialect: Any, text: str) -> Any:
    """The SQLAlchemy type for a recorded SQL type (by sqlglot's type name)."""
    import sqlalchemy as sa
    from sqlglot import exp

    data_type = exp.DataType.build(text, dialect=dialect, udt=True)
    kind = data_type.this.name
    if kind == "FLOAT":
        return sa.Float(precision=24)
    if kind in ("DECIMAL", "BIGDECIMAL"):
        params = [int(p.this.this) for p in data_type.expressions if p.this is not None]
        return sa.Numeric(*params[:2])  # type: ignore[call-overload]  # precision, scale
    if kind in ("TIMESTAMP", "DATETIME", "TIMESTAMPNTZ", "DATETIME2"):
        return sa.DateTime()
    if kind in ("TIMESTAMPTZ", "TIMESTAMPLTZ"):
        return sa.DateTime(timezone=True)
    if kind == "ARRAY" and data_type.expressions:
        return sa.ARRAY(_sa_type(dialect, data_type.expressions[0].sql(dialect=dialect)))
    sa_name = _BY_KIND.get(kind)
    return getattr(sa, sa_name)() if sa_name else sa.types.NullType()
