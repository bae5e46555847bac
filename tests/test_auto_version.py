"""`version=AUTO_VERSION`: an eager polars task is versioned by the plan it builds on empty
inputs, on DuckDB and Postgres: unchanged code is a cache hit, changed code runs, and a task
whose output has no plan is a clear error."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from tabledag import AUTO_VERSION, AutoVersionError, FinalTaskState, Flow, Stage, Table, materialize

from .conftest import StoreTarget, on_duckdb_and_postgres

pl = pytest.importorskip("polars")


real_calls: list[int] = []


@materialize(version="1")
def numbers() -> Table:
    return Table(pa.table({"x": [1, 2, 3, 4]}), "numbers")


def build(factor: int) -> tuple[Flow, Any]:
    @materialize(version=AUTO_VERSION, input_type=pl.LazyFrame, name="scaled")
    def scaled(t: Any) -> Any:
        if t.select(pl.len()).collect().item():  # the placeholder has no rows
            real_calls.append(factor)
        return t.with_columns(y=pl.col("x") * factor)

    with Flow("auto") as flow:
        with Stage("raw"):
            n = numbers()
        with Stage("model"):
            out = scaled(n)
    return flow, out


@on_duckdb_and_postgres
def test_the_plan_is_the_version(target: StoreTarget) -> None:
    config = target.config()
    real_calls.clear()
    flow, out = build(2)
    first = flow.run(config=config)
    assert first.successful, repr(first.exception)
    assert first.get(out, as_type=pa.Table).column("y").to_pylist() == [2, 4, 6, 8]
    again = build(2)[0].run(config=config)
    assert again.states[next(c for c in again.states if c.name == "scaled")] is (
        FinalTaskState.CACHE_VALID
    )
    assert real_calls == [2]  # traced again, not run again
    changed, out = build(3)
    third = changed.run(config=config)
    assert third.states[out.call] is FinalTaskState.COMPLETED
    assert third.get(out, as_type=pa.Table).column("y").to_pylist() == [3, 6, 9, 12]
    assert real_calls == [2, 3]


@materialize(version=AUTO_VERSION, input_type=pl.LazyFrame)
def collected(t: Any) -> Any:
    return t.collect()  # a frame, not a plan


def test_an_output_without_a_plan_is_a_clear_error(tmp_path: Any) -> None:
    from tabledag import create_basic_config

    with Flow("auto") as flow:
        with Stage("raw"):
            n = numbers()
        with Stage("model"):
            collected(n)
    result = flow.run(config=create_basic_config(f"duckdb:///{tmp_path}/db.duckdb"))
    assert not result.successful
    cause = result.exception.__cause__
    assert isinstance(cause, AutoVersionError), repr(cause)
    assert "collected" in str(cause) and "explicit version=" in str(cause)
