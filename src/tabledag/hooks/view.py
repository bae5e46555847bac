"""`View(src, columns=, sort_by=, limit=)` outputs (pipedag's): a selection of input tables.

A view's sources are the task's inputs as they came in (SQLAlchemy tables, `TableRef`s, or
external tables); several sources are stacked (UNION ALL). It is built as a query like any
lazy output and written with CREATE TABLE AS, so a consumer reads a table, whatever store it
is on, and its key follows its sources' keys. `columns` selects (a list) or renames
(`{new: old}`); `sort_by` takes names, `SortCol`s or SQLAlchemy `col.desc()`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import HookError
from ..outputs import TableRef
from ..stores.base import Capability, Lazy, TableStore
from .base import CanMatResult, CanRetResult, TableHook

if TYPE_CHECKING:
    from ..outputs import Table
    from ..stores.base import StoreSession


class SortOrder(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class SortCol:
    name: str
    order: SortOrder = SortOrder.ASC
    nulls_first: bool | None = None


class View:
    """Rows of input tables, optionally some columns (renamed), sorted and limited."""

    def __init__(
        self,
        src: Any,
        *,
        sort_by: Any = None,
        columns: Any = None,
        limit: int | None = None,
        assert_normalized: bool = False,
    ) -> None:
        self.src = list(src) if isinstance(src, list | tuple) else [src]
        self.sort_by = sort_by
        self.columns = columns
        self.limit = limit

    def __repr__(self) -> str:
        return f"<View of {len(self.src)} table(s), limit={self.limit}>"


@TableStore.register_table()
class ViewTableHook(TableHook[TableStore]):
    materializes = ("tabledag.View",)
    retrieves = ()
    requires = frozenset({Capability.SQL})

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(isinstance(type_, type) and issubclass(type_, View))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(False)

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Lazy:
        view: View = table.obj
        where = f"View {table.name!r}"
        selects = [
            exp.select(*_columns(view.columns)).from_(_source(store, s, where)) for s in view.src
        ]
        query: exp.Query = selects[0]
        for select in selects[1:]:
            query = exp.union(query, select, distinct=False)
        if view.sort_by is not None or view.limit is not None:
            if len(selects) > 1:
                query = exp.select("*").from_(query.subquery("v"))
            assert isinstance(query, exp.Select)
            if view.sort_by is not None:
                query = query.order_by(*_order(view.sort_by))
            if view.limit is not None:
                query = query.limit(int(view.limit))
        return Lazy.of(query)


def _source(store: StoreSession, src: Any, where: str) -> exp.Table:
    if isinstance(src, TableRef):
        return store.sql_table(src)
    original = getattr(src, "original", src)  # an input's alias: the table behind it
    name, schema = getattr(original, "name", None), getattr(original, "schema", None)
    if isinstance(name, str) and isinstance(schema, str):
        return exp.table_(
            exp.to_identifier(name, quoted=True), db=exp.to_identifier(schema, quoted=True)
        )
    raise HookError(
        f"{where}: a source must be one of the task's input tables as it received them "
        f"(a SQLAlchemy table or a TableRef), not {type(src).__qualname__}"
    )


def _name(column: Any) -> str:
    return column if isinstance(column, str) else str(getattr(column, "name", column))


def _columns(columns: Any) -> list[exp.Expr]:
    if columns is None:
        return [exp.Star()]
    if isinstance(columns, Mapping):
        return [
            exp.alias_(exp.column(_name(old), quoted=True), new, quoted=True)
            for new, old in columns.items()
        ]
    if isinstance(columns, str) or not isinstance(columns, Iterable):
        columns = [columns]
    return [exp.column(_name(c), quoted=True) for c in columns]


def _order(sort_by: Any) -> list[exp.Ordered]:
    items = [sort_by] if isinstance(sort_by, str) or not isinstance(sort_by, Iterable) else sort_by
    ordered = []
    for item in items:
        if isinstance(item, SortCol):
            name, desc, nulls_first = item.name, item.order is SortOrder.DESC, item.nulls_first
        elif isinstance(item, str):
            name, desc, nulls_first = item, False, None
        else:  # a SQLAlchemy `col.desc()` / `col.asc()` (maybe `.nulls_first()`)
            modifiers, element = [], item
            while hasattr(element, "modifier") and hasattr(element, "element"):
                modifiers.append(getattr(element.modifier, "__name__", str(element.modifier)))
                element = element.element
            name = _name(element)
            desc = any("desc" in m for m in modifiers)
            nulls_first = True if any("nulls_first" in m for m in modifiers) else None
        node = exp.Ordered(this=exp.column(name, quoted=True), desc=desc)
        if nulls_first is not None:
            node.set("nulls_first", nulls_first)
        ordered.append(node)
    return ordered
