"""Task functions shared by the tests: module-level, so tasks and their calls pickle."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import ibis
import pandas as pd
import polars as pl
import pyarrow as pa
import sqlalchemy as sa
from sqlglot import exp

from tabledag import RawSql, Table, materialize

# -- data ------------------------------------------------------------------------------------------


def base_data() -> pa.Table:
    """The small table every round trip writes and expects back (nulls in two columns)."""
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "name": pa.array(["a", None, "c"], pa.string()),
            "x": pa.array([0.5, None, 2.5], pa.float64()),
        }
    )


def typed_data() -> pa.Table:
    """One column per Arrow type whose round trip is promised, each with a null."""
    utc = dt.UTC
    return pa.table(
        {
            "i8": pa.array([1, None, -128], pa.int8()),
            "i16": pa.array([1, None, -32768], pa.int16()),
            "i32": pa.array([1, None, -(2**31)], pa.int32()),
            "i64": pa.array([1, None, -(2**62)], pa.int64()),
            "f32": pa.array([1.5, None, -2.25], pa.float32()),
            "f64": pa.array([1.5, None, 1e300], pa.float64()),
            "dec": pa.array(
                [decimal.Decimal("1.2345"), None, decimal.Decimal("-99999999999999.9999")],
                pa.decimal128(18, 4),
            ),
            "flag": pa.array([True, None, False], pa.bool_()),
            "text": pa.array(["x", None, "ü ✓ 名"], pa.string()),
            "day": pa.array([dt.date(2020, 2, 29), None, dt.date(1900, 1, 1)], pa.date32()),
            "ts": pa.array(
                [dt.datetime(2020, 1, 1, 12, 30, 0, 123456), None, dt.datetime(1970, 1, 1)],
                pa.timestamp("us"),
            ),
            "ts_utc": pa.array(
                [
                    dt.datetime(2020, 1, 1, 12, 30, 0, 654321, tzinfo=utc),
                    None,
                    dt.datetime(1999, 12, 31, 23, 59, tzinfo=utc),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "größe": pa.array([1, None, 3], pa.int64()),
            "名前": pa.array(["a", None, "c"], pa.string()),
            "MixedCase": pa.array([1, None, 3], pa.int64()),
        }
    )


def canonical_rows(data: Any) -> list[dict[str, Any]]:
    """Rows of any frame-like value as dicts sorted by `id` (NaN in floats read as None)."""
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if isinstance(data, pl.DataFrame):
        data = data.to_arrow()
    elif isinstance(data, pd.DataFrame):
        data = pa.Table.from_pandas(data, preserve_index=False)
    assert isinstance(data, pa.Table), type(data)
    rows = data.to_pylist()
    for row in rows:
        for k, v in row.items():
            if isinstance(v, float) and v != v:
                row[k] = None
    return sorted(rows, key=lambda r: r["id"])


# -- plain declaration helpers ---------------------------------------------------------------------


@materialize(version="1")
def numbers() -> pa.Table:
    return pa.table({"n": [1, 2, 3]})


@materialize
def passthrough(t: Any) -> Any:
    return t


@materialize(nout=2, version="1")
def pair() -> tuple[pa.Table, pa.Table]:
    return pa.table({"a": [1]}), pa.table({"b": [2]})


@materialize(version="1")
def parts() -> dict[str, Table]:
    return {"left": Table(pa.table({"l": [1]}), name="left"), "right": pa.table({"r": [2]})}


@materialize
def add(x: int, y: int = 10) -> int:
    return x + y


@materialize
def unwrap_table(t: Any) -> Any:
    return t


# -- round trip: producers of every output type ---------------------------------------------------


@materialize(version="1")
def src() -> pa.Table:
    return base_data()


@materialize(version="1")
def out_pyarrow() -> pa.Table:
    return base_data()


@materialize(version="1")
def out_pandas() -> pd.DataFrame:
    return base_data().to_pandas()


@materialize(version="1")
def out_polars() -> pl.DataFrame:
    return pl.from_arrow(base_data())


@materialize(version="1")
def out_lazyframe() -> pl.LazyFrame:
    return pl.from_arrow(base_data()).lazy()


@materialize(lazy=True, input_type=ibis.Table)
def out_ibis(s: ibis.Table) -> ibis.Table:
    return s.filter(s.id >= 1)


@materialize(lazy=True, input_type=exp.Table)
def out_sqlglot(s: exp.Table) -> exp.Query:
    assert isinstance(s, exp.Table), type(s)
    return exp.select("*").from_(s).where("id >= 1")


@materialize(lazy=True, input_type=str)
def out_sql_str(s: str) -> str:
    assert isinstance(s, str), type(s)
    return f"SELECT * FROM {s} WHERE id >= 1"


@materialize(lazy=True, input_type=sa.Table)
def out_sa_select(s: sa.Table) -> Any:
    assert isinstance(s, sa.Alias) and isinstance(s.original, sa.Table), type(s)
    return sa.select(s).where(s.c.id >= 1)


@materialize(lazy=True, input_type=str)
def out_sa_text(s: str) -> Any:
    return sa.text(f"SELECT * FROM {s} WHERE id >= 1")


@materialize(lazy=True)
def out_raw_sql(src_schema: str, s: Table) -> RawSql:
    # RawSql is never rewritten: it names the input through its stage view.
    return RawSql(f'SELECT * FROM "{src_schema}"."src" WHERE id >= 1')


OUTPUT_TASKS = {
    "pyarrow": out_pyarrow,
    "pandas": out_pandas,
    "polars": out_polars,
    "lazyframe": out_lazyframe,
    "ibis": out_ibis,
    "sqlglot": out_sqlglot,
    "sql_str": out_sql_str,
    "sa_select": out_sa_select,
    "sa_text": out_sa_text,
    "raw_sql": out_raw_sql,
}


# -- round trip: consumers of every input type -----------------------------------------------------


@materialize(lazy=True, input_type=ibis.Table)
def in_ibis(t: ibis.Table) -> ibis.Table:
    assert isinstance(t, ibis.Table), type(t)
    return t.select(*t.columns)


@materialize(lazy=True, input_type=sa.Table)
def in_sa(t: sa.Table) -> Any:
    assert isinstance(t, sa.Alias) and isinstance(t.original, sa.Table), type(t)
    assert [c.name for c in t.columns] == ["id", "name", "x"]
    return sa.select(t)


@materialize(lazy=True, input_type=str)
def in_str(t: str) -> str:
    assert isinstance(t, str), type(t)
    return f"SELECT * FROM {t}"


@materialize(input_type=pa.Table)
def in_pyarrow(t: pa.Table) -> pa.Table:
    assert isinstance(t, pa.Table), type(t)
    return t


@materialize(input_type=pd.DataFrame)
def in_pandas(t: pd.DataFrame) -> pd.DataFrame:
    assert isinstance(t, pd.DataFrame), type(t)
    return t


@materialize(input_type=pl.DataFrame)
def in_polars(t: pl.DataFrame) -> pl.DataFrame:
    assert isinstance(t, pl.DataFrame), type(t)
    return t


@materialize(input_type=pl.LazyFrame)
def in_lazyframe(t: pl.LazyFrame) -> pl.LazyFrame:
    assert isinstance(t, pl.LazyFrame), type(t)
    return t


INPUT_TASKS = {
    "ibis": in_ibis,
    "sa": in_sa,
    "str": in_str,
    "pyarrow": in_pyarrow,
    "pandas": in_pandas,
    "polars": in_polars,
    "lazyframe": in_lazyframe,
}


@materialize(version="1")
def typed() -> pa.Table:
    return typed_data()


@materialize(version="1")
def named_upper() -> dict[str, Table]:
    return {
        "t": Table(pa.table({"id": [1, 2]}), name="MyTable"),
        "u": Table(pa.table({"id": [3]}), name="  Other_NAME "),
    }


# -- caching ---------------------------------------------------------------------------------------

STATE: dict[str, Any] = {"data": 1, "calls": []}
"""Mutable module state the caching tests change between runs (via monkeypatch)."""


def _record(name: str) -> None:
    STATE["calls"].append(name)


def source_data() -> pa.Table:
    """Rows depending on `STATE['data']`."""
    n = int(STATE["data"])
    return pa.table({"id": list(range(1, n + 2)), "v": [n * 10] * (n + 1)})


def produce() -> pa.Table:
    """An eager source; wrap with `materialize(version=...)` or without."""
    _record("produce")
    return source_data()


@materialize
def unversioned_source() -> pa.Table:
    _record("unversioned_source")
    return source_data()


@materialize(version="1", input_type=pa.Table)
def versioned_consumer(t: pa.Table) -> pa.Table:
    _record("versioned_consumer")
    return t.append_column("w", pa.array([1] * t.num_rows, pa.int64()))


@materialize(lazy=True, input_type=ibis.Table)
def lazy_consumer(t: ibis.Table) -> ibis.Table:
    _record("lazy_consumer")
    return t.filter(t.id >= 1)


@materialize(lazy=True, input_type=ibis.Table)
def lazy_threshold(t: ibis.Table, threshold: int) -> ibis.Table:
    _record("lazy_threshold")
    return t.filter(t.id >= threshold)


@materialize(lazy=True, input_type=str)
def lazy_sql(t: str, threshold: int) -> str:
    _record("lazy_sql")
    return f"SELECT * FROM {t} WHERE id >= {threshold}"


# -- failures --------------------------------------------------------------------------------------


class Boom(RuntimeError):
    pass


@materialize(input_type=pa.Table)
def explode(t: pa.Table) -> pa.Table:
    raise Boom("kaboom from explode")


@materialize(version="1")
def returns_object() -> Any:
    return object()


@materialize(version="1")
def returns_lock() -> Any:
    import threading

    return threading.Lock()


@materialize(version="1")
def two_same_names() -> list[Table]:
    return [Table(pa.table({"a": [1]}), name="dup"), Table(pa.table({"a": [2]}), name="DUP")]


@materialize(version="1")
def named_shared_a() -> Table:
    return Table(pa.table({"a": [1]}), name="shared")


@materialize(version="1")
def named_shared_b() -> Table:
    return Table(pa.table({"a": [2]}), name="shared")
