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


def _sa_type(data_type: Any) -> Any:
    import sqlalchemy as sa
    from sqlglot import exp

    t = exp.DataType.Type
    kind = data_type.this
    if kind in (t.TINYINT, t.SMALLINT):
        return sa.SmallInteger()
    if kind in (t.INT, t.MEDIUMINT):
        return sa.Integer()
    if kind in (t.BIGINT, t.UBIGINT, t.UINT, t.HUGEINT):
        return sa.BigInteger()
    if kind in (t.FLOAT,):
        return sa.Float(precision=24)
    if kind in (t.DOUBLE,):
        return sa.Double()
    if kind in (t.DECIMAL,):
        params = [int(p.this.this) for p in data_type.expressions if p.this is not None] or [None]
        return sa.Numeric(*params)
    if kind is t.BOOLEAN:
        return sa.Boolean()
    if kind in (t.DATE,):
        return sa.Date()
    if kind in (t.TIMESTAMP, t.DATETIME, t.TIMESTAMPNTZ):
        return sa.DateTime()
    if kind in (t.TIMESTAMPTZ, t.TIMESTAMPLTZ):
        return sa.DateTime(timezone=True)
    if kind in (t.TIME,):
        return sa.Time()
    if kind in (t.VARBINARY, t.BINARY, t.BLOB):
        return sa.LargeBinary()
    if kind in (t.VARCHAR, t.TEXT, t.CHAR, t.NVARCHAR, t.NCHAR):
        return sa.String()
    return sa.types.NullType()
