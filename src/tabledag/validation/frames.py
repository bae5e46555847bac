"""polars helpers shared by the dataframely and colspec readers (both check polars frames)."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..errors import DeclarationError
from .kinds import TableOutcome, show_rows

_POLARS = (pl.DataFrame, pl.LazyFrame)


def _name(value: Any) -> str:
    return getattr(value, "__qualname__", None) or repr(value)


def polars_input_type(declared: Any, label: str, default: Any, fixed: Any = None) -> Any:
    """The polars frame type for an annotation, given the task's declared `input_type`."""
    if fixed is not None:
        if declared is not None and declared is not fixed:
            raise DeclarationError(
                f"annotated {label}, the tables arrive as polars.{fixed.__name__}, but the task "
                f"declares input_type={_name(declared)}; drop input_type or change the annotation"
            )
        return fixed
    if declared is None:
        return default
    if declared in _POLARS:
        return declared
    return None  # another input_type: the check runs on a polars copy


def to_polars(value: Any) -> Any:
    """A pandas or pyarrow frame as a polars DataFrame, a Polars-backed pydiverse.transform
    table as a LazyFrame; None for anything else (SQL, a SQL-backed pdt table)."""
    module = type(value).__module__
    if module.startswith("pandas") and type(value).__name__ == "DataFrame":
        return pl.from_pandas(value)
    if module.startswith("pyarrow") and type(value).__name__ == "Table":
        return pl.from_arrow(value)
    if module.startswith("pydiverse.transform") and type(value).__name__ == "Table":
        import pydiverse.transform as pdt

        # (hooks.pydiverse_transform.is_sql_backed asks the same; validation imports no hook)
        backend = pdt.backend(value)
        if str(getattr(backend, "backend_name", backend)).endswith("polars"):
            return value >> pdt.export(pdt.Polars(lazy=True))
    return None


def row_count(frame: Any) -> int:
    """Rows of a polars DataFrame or LazyFrame (a LazyFrame is counted, not collected)."""
    if isinstance(frame, pl.LazyFrame):
        return int(frame.select(pl.len()).collect().item())
    return len(frame)


def table_outcome(failure: Any, valid_rows: int) -> TableOutcome:
    invalid = len(failure)
    if not invalid:
        return TableOutcome(0, valid_rows)
    counts = {rule: n for rule, n in failure.counts().items() if n}
    return TableOutcome(invalid, invalid + valid_rows, counts, None, show_rows(failure.invalid()))


def as_type(frame: Any, cast_to: Any) -> Any:
    if cast_to is pl.LazyFrame:
        return frame.lazy()
    if cast_to is pl.DataFrame and isinstance(frame, pl.LazyFrame):
        return frame.collect()
    return frame


def lenient(data: Any, cast: Any, cast_to: Any) -> Any:
    """Every row of `data` cast by `cast` where that works, as given where it does not."""
    collected = data.collect() if isinstance(data, pl.LazyFrame) else data
    try:
        return as_type(cast(collected), cast_to)
    except Exception:
        return as_type(collected, cast_to)
