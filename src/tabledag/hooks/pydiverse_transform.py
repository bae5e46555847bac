"""pydiverse.transform (pdt) tables, in and out.

Out: a SQL-backed pdt table is a query (`build_query()`, compiled in the SQLAlchemy dialect the
store names and read by sqlglot), written like any lazy SQL output; a Polars-backed one (also
`pdt.DuckDb`, which runs DuckDB over polars frames in memory) is collected and written as Arrow
through the polars hook.

In: `input_type=pdt.SqlAlchemy` gives a pdt table over the stored table for building lazy
queries (stores that run SQL only); `pdt.Polars` (and `pdt.Pandas`, which pdt turns into polars)
a pdt table over a polars LazyFrame (a scan of the files where the store keeps parquet files).

The SqlAlchemy input's engine compiles but never connects: the store's session owns the
connection and runs the query. Return the pdt table to have it written; to compute on the data
in Python, ask for `pdt.Polars` instead.

Registered only where pydiverse-transform is installed (`pip install 'tabledag[transform]'`);
importing this module imports neither pdt nor SQLAlchemy.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import HookError
from ..stores.base import Capability, Lazy, TableStore
from .base import (
    CanMatResult,
    CanRetResult,
    TableHook,
    installed,
    parse_compiled,
    text_fingerprint,
    type_is,
)

if TYPE_CHECKING:
    from sqlglot import exp

    from ..outputs import Table, TableRef
    from ..stores.base import Output, StoreSession

PDT = "pydiverse.transform"
SQL_TARGETS = ("SqlAlchemy",)
FRAME_TARGETS = ("Polars", "Pandas")


@TableStore.register_table(installed(PDT))
class PydiverseTransformTableHook(TableHook[TableStore]):
    materializes = ("pydiverse.transform.Table",)
    retrieves = ("pydiverse.transform.SqlAlchemy", "pydiverse.transform.Polars")

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(type_is(type_, PDT, "Table"))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(any(type_is(type_, PDT, n) for n in SQL_TARGETS + FRAME_TARGETS))

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Output:
        from pydiverse.transform import Polars, build_query, export

        obj = table.obj
        if is_sql_backed(obj) and Capability.SQL in store.capabilities:
            sql = obj >> build_query()
            if sql is not None:
                return _lazy(store, _unquoted(store, str(sql)))
        # Polars (or DuckDB over polars) data, or SQL on a store that runs none: the frame.
        frame = obj >> export(Polars())
        return store.materialize(replace(table, obj=frame), stage_name)

    @classmethod
    def lazy_query_str(cls, store: StoreSession, obj: Any) -> str:
        if not is_sql_backed(obj):
            raise TypeError("a Polars-backed pydiverse.transform table is data, not a query")
        return super().lazy_query_str(store, obj)

    @classmethod
    def auto_name(cls, obj: Any) -> str | None:
        """`>> pdt.alias("name")` as the last verb names the table."""
        ast = getattr(obj, "_ast", None)
        aliased = type(ast).__name__ == "Alias"
        return cls.carried_name(obj) if aliased else None

    @classmethod
    def carried_name(cls, obj: Any) -> str | None:
        """The table's own name: its alias, else the name of the table it derives from (an
        input's logical name), which pipedag gives a bare pdt output."""
        name = getattr(getattr(obj, "_ast", None), "name", None)
        return name if isinstance(name, str) and name else None

    @classmethod
    def plan_fingerprint(cls, obj: Any) -> str | None:
        """A SQL-backed table's query; a Polars-backed one's polars plan."""
        import pydiverse.transform as pdt

        if is_sql_backed(obj):
            return str(obj >> pdt.build_query())
        plan: str = (obj >> pdt.export(pdt.Polars(lazy=True))).explain(optimized=False)
        return plan

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        import pydiverse.transform as pdt
        import sqlalchemy as sa

        if isinstance(as_type, type) and issubclass(as_type, pdt.SqlAlchemy):
            if Capability.SQL not in store.capabilities:
                raise HookError(
                    f"table {table.name!r} of stage {stage_name!r}: "
                    f"{type(store.store).__name__} runs no SQL, so it cannot give "
                    "pydiverse.transform SqlAlchemy tables; use input_type=pdt.Polars"
                )
            sa_table = store.retrieve(table, stage_name, sa.Table)
            if isinstance(sa_table, sa.Alias):  # tasks get an alias (pipedag's); pdt the table
                sa_table = sa_table.original
            # a live engine where SQLAlchemy reaches the database, so that a task can also
            # export results (`>> export(pdt.Scalar)`); else one that only compiles
            engine = store.store.sqlalchemy_engine() or _engine(store.sqlalchemy_dialect[0])
            result = pdt.Table(sa_table, pdt.SqlAlchemy(engine), name=table.name)
        else:
            import polars as pl

            result = pdt.Table(store.retrieve(table, stage_name, pl.LazyFrame), name=table.name)
        if limit is not None:
            result = result >> pdt.slice_head(limit)
        return result


def _unquoted(store: StoreSession, sql: str) -> str:
    """The query as SQL: compiled for a live engine whose driver takes `%s` parameters
    (psycopg2), pdt wrote each `%` as `%%` (as pipedag, undo it)."""
    engine = store.store.sqlalchemy_engine()
    if engine is not None and engine.dialect.paramstyle in ("pyformat", "format"):
        return sql.replace("%%", "%")
    return sql


def is_sql_backed(obj: Any) -> bool:
    """Whether a pdt table is a query on a database (not polars data in memory)."""
    import pydiverse.transform as pdt

    name = pdt.backend(obj)
    name = getattr(name, "backend_name", name)  # pdt 0.6 returns the implementation class
    return not str(name).endswith("polars")


def _lazy(store: StoreSession, sql: str) -> Lazy:
    read = store.sqlalchemy_dialect[1]
    return Lazy(
        lambda: _as_query(parse_compiled(sql, read)),
        fingerprint=text_fingerprint("pdt", store, sql),
        owned=True,
    )


def _as_query(tree: Any) -> exp.Query:
    from sqlglot import exp

    if not isinstance(tree, exp.Query):
        raise HookError(f"pydiverse.transform compiled no SELECT: {tree.sql()[:200]!r}")
    return tree


@functools.cache
def _engine(sa_name: str) -> Any:
    """A SQLAlchemy engine of the store's dialect that compiles queries and never connects
    (no database driver is loaded: the dialect is built as the SQLAlchemy hook builds it)."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import registry

    def refuse(*args: Any) -> Any:
        raise HookError(
            "a pydiverse.transform SqlAlchemy input builds queries for tabledag to run: "
            "return it from the task, or ask for input_type=pdt.Polars to compute in Python "
            "(SQLAlchemy has no dialect installed for this store's URL to run it here, e.g. "
            "duckdb-engine for DuckDB)"
        )

    class CompileOnlyEngine(sa.engine.Engine):
        connect = raw_connection = refuse

    dialect = registry.load(sa_name)(paramstyle="named")
    return CompileOnlyEngine(sa.pool.NullPool(refuse), dialect, sa.make_url(f"{sa_name}://"))
