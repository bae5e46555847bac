"""Arrow through any DB-API 2 cursor: parameter rows for `executemany`, and `fetchmany` into
Arrow. The slow but universal path, for drivers without a bulk one (ibm_db, and whatever
SQLAlchemy connects to for an unknown dialect)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

BATCH_ROWS = 10_000
"""Rows per `executemany` / `fetchmany` call."""


def parameter_rows(data: pa.Table, batch_rows: int = BATCH_ROWS) -> Iterator[list[tuple[Any, ...]]]:
    """`data` as lists of parameter tuples; zoned timestamps as naive UTC (databases without
    a zoned type store UTC)."""
    for batch in data.to_batches(batch_rows):
        columns = []
        for column in batch.columns:
            if pa.types.is_dictionary(column.type):
                column = column.dictionary_decode()  # type: ignore[attr-defined]
            if pa.types.is_timestamp(column.type) and column.type.tz:
                column = pc.cast(column, pa.timestamp(column.type.unit))
            columns.append(column.to_pylist())
        yield list(zip(*columns, strict=True))


def markers(paramstyle: str, count: int) -> str:
    """`count` parameter markers in a DB-API `paramstyle`."""
    if paramstyle == "qmark":
        return ", ".join("?" * count)
    if paramstyle in ("format", "pyformat"):
        return ", ".join(["%s"] * count)
    if paramstyle == "numeric":
        return ", ".join(f":{i + 1}" for i in range(count))
    if paramstyle == "named":  # rows then go as dicts of p0, p1, ...
        return ", ".join(f":p{i}" for i in range(count))
    raise ValueError(f"no positional markers in paramstyle {paramstyle!r}")


def read(cursor: Any, sql: str, batch_rows: int = BATCH_ROWS) -> pa.Table:
    """Run `sql` and fetch its rows into Arrow (types inferred from the values)."""
    cursor.execute(sql)
    names: Sequence[str] = [d[0] for d in cursor.description]
    batches = []
    while chunk := cursor.fetchmany(batch_rows):
        columns = zip(*chunk, strict=True)
        batches.append(pa.table(dict(zip(names, map(pa.array, columns), strict=True))))
    if not batches:
        return pa.table({n: pa.array([], pa.null()) for n in names})
    return pa.concat_tables(batches, promote_options="permissive")
