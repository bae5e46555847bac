"""pandas DataFrames: converted to Arrow (no index) and back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..stores.base import Eager, TableStore
from .base import CanMatResult, CanRetResult, TableHook, type_is

if TYPE_CHECKING:
    from ..outputs import Table, TableRef
    from ..stores.base import StoreSession


@TableStore.register_table()
class PandasTableHook(TableHook[TableStore]):
    """`as_type=(pd.DataFrame, "arrow")` gives Arrow-backed columns instead of numpy ones."""

    materializes = ("pandas.DataFrame",)
    retrieves = ("pandas.DataFrame",)

    @classmethod
    def can_materialize(cls, type_: type) -> CanMatResult:
        return CanMatResult.new(type_is(type_, "pandas", "DataFrame"))

    @classmethod
    def can_retrieve(cls, type_: type) -> CanRetResult:
        return CanRetResult.new(type_is(type_, "pandas", "DataFrame"))

    @classmethod
    def materialize(cls, store: StoreSession, table: Table, stage_name: str) -> Eager:
        import pyarrow as pa

        frame = table.obj
        if not all(isinstance(c, str) for c in frame.columns):
            raise TypeError(
                f"table {table.name!r}: pandas column names must be strings, got "
                f"{[c for c in frame.columns if not isinstance(c, str)][:5]}"
            )
        return Eager(pa.Table.from_pandas(frame, preserve_index=False))

    @classmethod
    def retrieve(
        cls,
        store: StoreSession,
        table: TableRef,
        stage_name: str,
        as_type: Any,
        limit: int | None = None,
    ) -> Any:
        data = store.read_arrow(table, limit)
        if isinstance(as_type, tuple) and "arrow" in as_type[1:]:
            import pandas as pd

            return data.to_pandas(types_mapper=pd.ArrowDtype)
        return data.to_pandas()
