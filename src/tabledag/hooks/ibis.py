"""ibis tables: lazy outputs compiled to sqlglot by the session's ibis backend; inputs are ibis
tables bound to the session's connection, built from the recorded column types (no catalogue
query, no compile on a cached run: see ibis_fingerprint.py).

An expression holding an `ibis.memtable` is data, not a query: memtables get random names
(`ibis_pandas_memtable_<uuid>`), so such an output is executed and written as Arrow, keyed by
its data hash, which keeps cache keys deterministic.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ..stores.base import Capability, Eager, Lazy, TableStore
from .base import CanMatResult, CanRetResult, TableHook, type_is
from .ibis_fingerprint import fingerprint

if TYPE_CHECKING:
    from ..outputs import Table, TableRef
    from ..stores.base import Output, StoreSession


@TableStore.register_table()
class IbisTableHook(TableHook[TableStore]):
    materializes = ("ibis.Table",)
    retrieves = ("ibis.Table",)
    requires = frozenset({Capability.SQL, Capability.IBIS})
    needs_connection = True

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(type_is(type_, "ibis.expr.types.relations", "Table"))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(type_is(type_, "ibis.expr.types.relations", "Table"))

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Output:
        expr = table.obj
        backend = store.ibis
        if _has_memtable(expr):
            return Eager(backend.to_pyarrow(expr))
        fp = fingerprint(expr, backend.name)
        types, dialect = backend.compiler.type_mapper, store.sqlglot_dialect
        columns = tuple(
            (name, _sql_type(types, dtype, dialect)) for name, dtype in expr.schema().items()
        )
        return Lazy(lambda: _compile(backend, expr, fp), fingerprint=fp, columns=columns)

    @classmethod
    def lazy_query_str(cls, store: StoreSession, obj: Any) -> str:
        if _has_memtable(obj):
            raise TypeError("an ibis expression over a memtable is data, not a lazy query")
        return super().lazy_query_str(store, obj)

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        import ibis.expr.operations as ops

        backend = store.ibis
        target = store.sql_table(table)
        schema = _schema(backend.compiler.type_mapper, tuple(store.column_types(table)))
        namespace = ops.Namespace(database=target.db)
        expr = ops.DatabaseTable(target.name, schema, backend, namespace).to_expr()
        return expr if limit is None else expr.limit(limit)


@functools.lru_cache(maxsize=4096)
def _sql_type(type_mapper: Any, dtype: Any, dialect: Any) -> str:
    """An ibis dtype as SQL type text (rendering one costs ~0.07 ms; there are few distinct)."""
    return str(type_mapper.from_ibis(dtype).sql(dialect=dialect))


@functools.lru_cache(maxsize=4096)
def _schema(type_mapper: Any, columns: tuple[tuple[str, str], ...]) -> Any:
    """Parsing type strings costs ~0.1 ms a column; a table's columns never change."""
    import ibis

    return ibis.schema({name: type_mapper.from_string(kind) for name, kind in columns})


def _compile(backend: Any, expr: Any, fp: str | None) -> Any:
    """Compile to a sqlglot tree, memoised by fingerprint within the process."""
    if fp is None:
        return backend.compiler.to_sqlglot(expr)
    tree = _compiled.get(fp)
    if tree is None:
        tree = _compiled[fp] = backend.compiler.to_sqlglot(expr)
        if len(_compiled) > 4096:
            _compiled.pop(next(iter(_compiled)))
    return tree  # shared: callers render or copy it, never change it


_compiled: dict[str, Any] = {}
"""fingerprint -> compiled tree (oldest dropped first past 4096 entries)."""


def _has_memtable(expr: Any) -> bool:
    import ibis.expr.operations as ops

    return bool(expr.op().find(ops.InMemoryTable))
