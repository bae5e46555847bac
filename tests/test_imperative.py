"""`Table(...).materialize()` inside a task (pipedag's imperative materialization), on DuckDB
and Postgres: the table is written at once, handed back as the task's input type, stands for
itself when returned, and tables written but not returned stay in the stage and in the cache."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import ProgrammingError

from tabledag import (
    DebugTaintedError,
    DeclarationError,
    FinalTaskState,
    Flow,
    Stage,
    StoreError,
    Table,
    create_basic_pipedag_config,
    materialize,
)

from .conftest import StoreTarget, on_duckdb_and_postgres
from .dbutil import read_view

calls: list[str] = []


@materialize(version="1")
def source() -> Any:
    calls.append("source")
    frame = pd.DataFrame({"g": ["a", "b", "a"], "x": [1, 2, 3]})
    helper = Table(frame.head(1), "first_row").materialize()  # written, not returned
    assert helper is not None
    return Table(frame, "points").materialize()


@materialize(lazy=True, input_type=sa.Table)
def summed(points: sa.Alias) -> Any:
    sub = Table(
        sa.select(points.c.g, sa.func.sum(points.c.x).label("total")).group_by(points.c.g),
        "totals_%%",
    ).materialize()
    assert isinstance(sub, sa.Alias) and sub.original.name != sub.name  # physical vs logical
    return Table(sa.select(sub.c.g, sub.c.total).where(sub.c.total > 2), "big").materialize()


def build() -> tuple[Flow, Any, Any]:
    with Flow("imperative") as flow:
        with Stage("raw"):
            points = source()
        with Stage("model"):
            big = summed(points)
    return flow, points, big


@on_duckdb_and_postgres
def test_materialize_writes_now_and_returns_the_input_type(target: StoreTarget) -> None:
    calls.clear()
    flow, points, big = build()
    config = target.config()
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    assert result.get(big, as_type=pa.Table).to_pylist() == [{"g": "a", "total": 4}]
    assert result.outputs[points.call].name == "points"
    assert read_view(config, "raw", "first_row") == [("a", 1)]  # kept, though not returned
    totals = [name for name in _views(config, "model") if name.startswith("totals_")]
    assert len(totals) == 1

    again = flow.run(config=config)
    assert set(again.states.values()) == {FinalTaskState.CACHE_VALID}
    assert calls == ["source"]  # the versioned task did not run again...
    assert read_view(config, "raw", "first_row") == [("a", 1)]  # ...and its helper stays


def test_outside_a_flow_a_task_is_its_function() -> None:
    frame = pa.table({"a": [1]})
    assert Table(frame, "t").materialize() is frame  # pipedag's interactive rule
    with pytest.raises(DeclarationError, match="give the schema"):
        Table(frame, "t").materialize(create_basic_pipedag_config("duckdb://").get("default"))


caught: list[BaseException] = []


@materialize(lazy=True)
def debugged(twice: bool) -> Any:
    """pipedag's failing_flow_after_successful_debugging.py, in short."""
    try:
        Table(sa.text("SELECT-TYPO 1"), name="tbl").materialize()
    except ProgrammingError as error:  # as pipedag users catch it
        caught.append(error)
    tbl = Table(sa.text("SELECT 1 AS a"), name="tbl").materialize()
    if twice:
        kept = Table(sa.text("SELECT 'not yet' AS a"))
        kept.materialize()
        kept.obj = sa.text("SELECT 2 AS a")  # pipedag's tables are mutable: obj only
        kept.materialize()
    return tbl


@on_duckdb_and_postgres
def test_a_refused_statement_is_a_store_error_and_sqlalchemys_programming_error(
    target: StoreTarget,
) -> None:
    caught.clear()
    with Flow("debug") as flow, Stage("s"):
        call = debugged(False)
    result = flow.run(config=target.config())
    assert result.successful, repr(result.exception)
    assert result.get(call, as_type=pa.Table).to_pylist() == [{"a": 1}]
    [error] = caught
    assert isinstance(error, StoreError) and isinstance(error, ProgrammingError)
    assert "writing table 'tbl' of stage 's' failed" in str(error)
    assert error.__cause__ is not None and error.orig is error.__cause__
    copied = pickle.loads(pickle.dumps(error))  # a worker's error reaches the driver
    assert isinstance(copied, StoreError) and isinstance(copied, ProgrammingError)
    assert str(copied) == str(error)


@on_duckdb_and_postgres
def test_a_table_materialized_twice_taints_the_task(target: StoreTarget) -> None:
    config = target.config()
    with Flow("debug") as flow, Stage("s"):
        call = debugged(False)
    assert flow.run(config=config).successful
    with Flow("debug") as flow, Stage("s"):
        call = debugged(True)
    result = flow.run(config=config)
    assert result.states[call.call] is FinalTaskState.FAILED
    error = result.exception.__cause__ if result.exception is not None else None
    assert isinstance(error, DebugTaintedError), repr(result.exception)
    assert "tainted by interactive debugging" in str(error) and "'debugged'" in str(error)
    assert read_view(config, "s", "tbl") == [(1,)]  # the committed stage is untouched
    assert "debugged" not in _views(config, "s")


def test_only_a_tables_obj_can_be_assigned() -> None:
    table = Table("SELECT 1", name="t")
    table.obj = "SELECT 2"
    assert table.obj == "SELECT 2"
    with pytest.raises(FrozenInstanceError, match="only `obj` can be assigned"):
        table.name = "u"  # type: ignore[misc]
    assert table.with_name("u").name == "u" and table.name == "t"


def _views(config: Any, stage: str) -> list[str]:
    store = config.store_object
    with store.session() as session:
        return [t.name for t in session.stage_tables(stage)]
