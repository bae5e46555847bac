"""tidypolars tibbles, in and out, through the polars hook.

A tibble is a polars DataFrame subclass that hides most DataFrame methods (`to_arrow` among
them), so it is turned into a plain polars frame before writing, and read back with
`tidypolars.from_polars`. tidypolars 0.3 names the class `tibble`, earlier releases `Tibble`;
both are served.

Registered only where tidypolars is installed (`pip install 'tabledag[tidypolars]'`; it
supports Python < 3.12); importing this module does not import it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..stores.base import TableStore
from .base import CanMatResult, CanRetResult, TableHook, installed, type_is

if TYPE_CHECKING:
    from ..outputs import Table, TableRef
    from ..stores.base import Output, StoreSession

CLASS_NAMES = ("tibble", "Tibble")


@TableStore.register_table(installed("tidypolars"))
class TidyPolarsTableHook(TableHook[TableStore]):
    materializes = ("tidypolars.Tibble",)
    retrieves = ("tidypolars.Tibble",)

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(any(type_is(type_, "tidypolars", n) for n in CLASS_NAMES))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(cls.can_materialize(type_) is CanMatResult.YES)

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Output:
        tibble = table.obj
        as_polars = getattr(tibble, "as_polars", None) or tibble.to_polars
        return store.materialize(replace(table, obj=as_polars()), stage_name)

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        import polars as pl
        import tidypolars

        frame = store.retrieve(table, stage_name, pl.DataFrame, limit)
        return tidypolars.from_polars(frame)
