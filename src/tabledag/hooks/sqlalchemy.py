"""SQLAlchemy selectables: compiled with literal values, then read by sqlglot as a query tree.

Inputs are `sqlalchemy.Table` objects with their columns and types filled in from the catalogue,
so they work in `select()` without an engine (DuckDB needs no SQLAlchemy driver this way).
"""

from __future__ import annotations

from typing import Any

from ..outputs import Table
from ..stores.sql.store import SQLTableStore
from .base import CanMatResult, CanRetResult, TableHook, type_is


@SQLTableStore.register_table()
class SQLAlchemyTableHook(TableHook[SQLTableStore]):
    materializes = ("sqlalchemy.Select", "sqlalchemy.TextClause", "sqlalchemy.Table")
    retrieves = ("sqlalchemy.Table",)

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
    def materialize(cls, store: SQLTableStore, table: Table, stage_name: str) -> None:
        store.write_query(table, stage_name, _to_sqlglot(store, table.obj))

    @classmethod
    def retrieve(
        cls,
        store: SQLTableStore,
        table: Table,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        import sqlalchemy as sa
        from sqlglot import exp

        target = store.physical(table)
        columns = [
            sa.Column(
                name, _sa_type(exp.DataType.build(type_, dialect=store.dialect.sqlglot, udt=True))
            )
            for name, type_ in store.columns(table)
        ]
        return sa.Table(target.name, sa.MetaData(), *columns, schema=target.db)

    @classmethod
    def lazy_query_str(cls, store: SQLTableStore, obj: Any) -> str:
        return store.canonical_sql(_to_sqlglot(store, obj))


def _to_sqlglot(store: SQLTableStore, obj: Any) -> Any:
    import sqlalchemy as sa
    import sqlglot
    from sqlalchemy.dialects import postgresql

    if isinstance(obj, sa.FromClause):
        obj = sa.select(sa.text("*")).select_from(obj)
    sql = str(obj.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    return sqlglot.parse_one(sql, read="postgres")


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


def _sa_type(data_type: Any) -> Any:
    """The SQLAlchemy type for a catalogue type (by sqlglot's type name, stable across versions)."""
    import sqlalchemy as sa

    kind = data_type.this.name
    if kind == "FLOAT":
        return sa.Float(precision=24)
    if kind in ("DECIMAL", "BIGDECIMAL"):
        params = [int(p.this.this) for p in data_type.expressions if p.this is not None]
        return sa.Numeric(*params[:2])
    if kind in ("TIMESTAMP", "DATETIME", "TIMESTAMPNTZ", "DATETIME2"):
        return sa.DateTime()
    if kind in ("TIMESTAMPTZ", "TIMESTAMPLTZ"):
        return sa.DateTime(timezone=True)
    sa_name = _BY_KIND.get(kind)
    return getattr(sa, sa_name)() if sa_name else sa.types.NullType()
