"""ibis tables: lazy outputs compiled to sqlglot by the store's ibis backend; inputs are ibis
tables bound to the store's connection.

An expression holding an `ibis.memtable` is data, not a query: memtables get random names
(`ibis_pandas_memtable_<uuid>`), so such an output is executed and written as Arrow, keyed by
its data hash, which keeps cache keys deterministic.
"""

from __future__ import annotations

from typing import Any

from ..outputs import Table
from ..stores.sql.store import SQLTableStore
from .base import CanMatResult, CanRetResult, TableHook, type_is
from .ibis_fingerprint import fingerprint


@SQLTableStore.register_table()
class IbisTableHook(TableHook[SQLTableStore]):
    materializes = ("ibis.Table",)
    retrieves = ("ibis.Table",)
    needs_connection = True

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(type_is(type_, "ibis.expr.types.relations", "Table"))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(type_is(type_, "ibis.expr.types.relations", "Table"))

    @classmethod
    def materialize(cls, store: SQLTableStore, table: Table, stage_name: str) -> None:
        expr = table.obj
        if _has_memtable(expr):
            store.write_arrow(table, stage_name, store.ibis.to_pyarrow(expr))
            return
        fp = fingerprint(expr, store.dialect.sqlglot)
        store.write_query(
            table,
            stage_name,
            lambda: _compile(store, expr, fp),
            ibis_schema=expr.schema(),
            fingerprint=fp,
        )

    @classmethod
    def retrieve(
        cls,
        store: SQLTableStore,
        table: Table,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        expr = store.ibis_table(table)
        return expr if limit is None else expr.limit(limit)

    @classmethod
    def lazy_query_str(cls, store: SQLTableStore, obj: Any) -> str:
        if _has_memtable(obj):
            raise TypeError("an ibis expression over a memtable is data, not a lazy query")
        return store.canonical_sql(_compile(store, obj, fingerprint(obj, store.dialect.sqlglot)))


def _compile(store: SQLTableStore, expr: Any, fp: str | None) -> Any:
    """Compile to a sqlglot tree, memoised by fingerprint within the process."""
    if fp is None:
        return store.ibis.compiler.to_sqlglot(expr)
    tree = _compiled.get(fp)
    if tree is None:
        tree = _compiled[fp] = store.ibis.compiler.to_sqlglot(expr)
        if len(_compiled) > 4096:
            _compiled.pop(next(iter(_compiled)))
    return tree  # shared: callers render or copy it, never change it


_compiled: dict[str, Any] = {}
"""fingerprint -> compiled tree (oldest dropped first past 4096 entries)."""


def _has_memtable(expr: Any) -> bool:
    import ibis.expr.operations as ops

    return bool(expr.op().find(ops.InMemoryTable))
