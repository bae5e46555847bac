"""Task functions (and the value types they pass) for tests/test_regressions.py.

Module-level, so that tasks, their calls and the values they return pickle and decode by import
path. `STATE` is changed between runs by the tests (through monkeypatch).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import pathlib
from typing import Any, NamedTuple

import polars as pl
import pyarrow as pa
import sqlalchemy as sa
from sqlglot import exp

from tabledag import Table, materialize

STATE: dict[str, Any] = {
    "data": 1,
    "primary_key": None,
    "indexes": None,
    "received": [],
    "value": "rich",
}


# -- plain sources ------------------------------------------------------------------------------


@materialize(version="1")
def five_rows() -> pa.Table:
    return pa.table(
        {"id": pa.array([1, 2, 3, 4, 5], pa.int64()), "name": ["a", "b", "c", "d", "e"]}
    )


@materialize(version="1")
def weights() -> pa.Table:
    return pa.table({"id": pa.array([2, 3, 9], pa.int64()), "w": [0.5, 1.5, 9.0]})


@materialize
def changing_source() -> pa.Table:
    """Unversioned: runs every time; its data follows `STATE["data"]`."""
    n = int(STATE["data"])
    return pa.table({"id": pa.array(list(range(1, n + 2)), pa.int64()), "v": [n] * (n + 1)})


# -- 13.6: failures -------------------------------------------------------------------------------


def terminate_backends(url: str, application_name: str) -> int:
    """Terminate every backend whose application_name is `application_name` (this test's own
    store connections), from a connection of another name; how many were terminated. Each
    call waits (up to 10 s) until its backend is gone, so the run's next statement finds it
    dead."""
    import psycopg2

    con = psycopg2.connect(url)
    try:
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (application_name,),
            )
            return sum(1 for (done,) in cursor.fetchall() if done)
    finally:
        con.close()


@materialize(input_type=pa.Table)
def cut_connections(t: pa.Table, admin_url: str, application_name: str) -> pa.Table:
    STATE["terminated"] = terminate_backends(admin_url, application_name)
    return t


def polars_panic() -> None:
    """A real Rust panic inside polars 2.x: `pyo3_runtime.PanicException` ("capacity
    overflow", raised before anything is allocated), a BaseException but not an Exception."""
    pl.int_range(0, 2**63 - 1, eager=True)
    raise AssertionError("polars no longer panics here; find another panic for this test")


@materialize(version="1")
def panics_in_task() -> pa.Table:
    polars_panic()
    return pa.table({"a": [1]})


@materialize(version="1")
def panics_in_collect() -> pl.LazyFrame:
    """The panic happens when tabledag collects the returned LazyFrame (in the table hook)."""
    return pl.LazyFrame().select(pl.int_range(0, 2**63 - 1))


class NotAnException(BaseException):
    """A BaseException that is not an Exception, KeyboardInterrupt or SystemExit."""


@materialize(version="1")
def raises_base_exception() -> pa.Table:
    raise NotAnException("raised from raises_base_exception")


@materialize(version="1")
def independent() -> pa.Table:
    return pa.table({"ok": [1]})


# -- 13.8: types ----------------------------------------------------------------------------------


@materialize(version="1")
def wide_decimal() -> Table:
    amounts = pa.array([decimal.Decimal("1.50"), None], pa.decimal256(40, 2))
    return Table(pa.table({"id": [1, 2], "amount": amounts}), name="ledger")


@materialize(version="1")
def struct_column() -> Table:
    points = pa.array([{"x": 1, "y": 2}, None], pa.struct([("x", pa.int64()), ("y", pa.int64())]))
    return Table(pa.table({"id": [1, 2], "point": points}), name="shapes")


INT_LISTS = [[1, 2], [], None, [3, None, 5]]


@materialize(version="1")
def int_lists() -> pa.Table:
    return pa.table(
        {"id": pa.array([1, 2, 3, 4], pa.int64()), "xs": pa.array(INT_LISTS, pa.list_(pa.int64()))}
    )


# -- 13.10: table options -------------------------------------------------------------------------


@materialize(lazy=True, input_type=str)
def keyed_lazy(t: str) -> Table:
    return Table(
        f"SELECT id, name FROM {t}",
        primary_key=STATE["primary_key"],
        indexes=STATE["indexes"],
    )


@materialize
def keyed_eager() -> Table:
    """Unversioned and eager, with the same data every run."""
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"]})
    return Table(data, primary_key=STATE["primary_key"], indexes=STATE["indexes"])


# -- 13.11: values --------------------------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: float
    label: str


class Span(NamedTuple):
    start: Any
    end: Any


def tricky_value() -> dict[str, Any]:
    """A plain value full of things JSON does not have, and of keys that look like tags."""
    return {
        "$table": {"stage": "s", "name": "not_a_table", "key": "0" * 32},
        "looks_tagged": {"$dict": [[1, 2]], "$tuple": [1], "$unknown": {"$x": 1}},
        "nested": [{"$table": "just a string"}, {"k": {"$set": []}}],
        "day": dt.date(2020, 2, 29),
        "moment": dt.datetime(2021, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC),
        "naive": dt.datetime(1999, 12, 31, 23, 59, 59),
        "clock": dt.time(12, 30, 1),
        "wait": dt.timedelta(days=2, seconds=3, microseconds=4),
        "amount": decimal.Decimal("12.3400"),
        "pair": (1, "a", (2.5, None)),
        "tags": {"x", "y"},
        "frozen": frozenset({1, 2}),
        "int_keys": {1: "one", 2: ["two"]},
        "point": Point(1, 2.5, "p"),
        "points": [Point(0, -1.0, "$table")],
        "colour": Colour.BLUE,
        "span": Span(dt.date(2020, 1, 1), dt.date(2020, 12, 31)),
        "raw": b"\x00\xff",
        "path": pathlib.Path("some/where.txt"),
        "inf": float("inf"),
        "empty": {},
        "none": None,
    }


def json_only_value() -> dict[str, Any]:
    """Nothing but JSON, with keys that look like tabledag's tags."""
    return {
        "$table": {"stage": "s", "name": "not_a_table", "key": "0" * 32},
        "items": [{"$table": {"stage": "s", "name": "x", "key": "1" * 32}}, {"$dict": []}],
        "$other": [1, 2.5, "three", None, True],
    }


VALUES = {"json": json_only_value, "rich": tricky_value}


@materialize(version="1")
def json_value() -> dict[str, Any]:
    return VALUES[STATE["value"]]()


@materialize(version="1")
def json_beside_a_table() -> dict[str, Any]:
    return {"table": pa.table({"a": [1, 2]}), "meta": VALUES[STATE["value"]]()}


@materialize
def receive(value: Any) -> Any:
    """Unversioned: always runs, and records what it was given."""
    STATE["received"].append(value)
    return value


# -- 13.12 / 13.14 / 13.24: SQLAlchemy ------------------------------------------------------------


@materialize(version="1")
def percent_source() -> Table:
    return Table(pa.table({"id": pa.array([1, 2, 3, 4, 5], pa.int64())}), name="pct%src")


@materialize(lazy=True, input_type=sa.Table)
def percent_query(t: sa.Table) -> Table:
    query = sa.select(
        t.c.id,
        (t.c.id % 2).label("odd"),
        sa.literal("50%").label("label"),
    ).where(t.c.id % 2 == 1)
    return Table(query, name="pct%out")


@materialize(lazy=True, input_type=sa.Table)
def sa_join(a: sa.Table, b: sa.Table) -> Any:
    return (
        sa.select(a.c.id, a.c.name, b.c.w)
        .join_from(a, b, a.c.id == b.c.id)
        .where(a.c.id >= 2)
        .order_by(a.c.id)
    )


@materialize(lazy=True, input_type=sa.Table)
def sa_first(t: sa.Table) -> Any:
    return sa.select(t.c.id, t.c.name).where(t.c.id > 1)


@materialize(lazy=True, input_type=sa.Table)
def sa_second(t: sa.Table, u: sa.Table) -> Any:
    return sa.select(t.c.id, u.c.w).join_from(t, u, t.c.id == u.c.id)


# -- 13.13: references inside containers ----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Inputs:
    left: Any
    right: Any
    scale: int = 1


def _row_counts(task: str, tables: list[Any]) -> pa.Table:
    STATE["received"].append((task, [type(t) for t in tables]))
    return pa.table({"rows": [t.num_rows for t in tables]})


@materialize(version="1", input_type=pa.Table)
def from_dataclass(inputs: Inputs) -> pa.Table:
    return _row_counts("from_dataclass", [inputs.left, inputs.right] * inputs.scale)


@materialize(version="1", input_type=pa.Table)
def from_namedtuple(span: Span) -> pa.Table:
    return _row_counts("from_namedtuple", [span.start, span.end])


@materialize(version="1", input_type=pa.Table)
def from_nested(nested: list[dict[str, Any]]) -> pa.Table:
    return _row_counts("from_nested", [nested[0]["t"], nested[1]["u"][0]])


# -- 14.10: limit ---------------------------------------------------------------------------------

LIMIT_TYPES = {"sqlglot": exp.Table, "str": str, "sqlalchemy": sa.Table}


@materialize(lazy=True, input_type=sa.Table)
def float_casts(t: Any) -> Any:
    """SQLAlchemy compiles `Float(p)` as `FLOAT(p)`, which sqlglot reads as DOUBLE(p)."""
    return sa.select(
        t.c.id,
        sa.cast(t.c.id, sa.Float(53)).label("wide"),
        sa.cast(t.c.id, sa.Float(10)).label("narrow"),
    )
