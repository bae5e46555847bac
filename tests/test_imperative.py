"""`Table(...).materialize()` inside a task (pipedag's imperative materialization), on DuckDB
and Postgres: the table is written at once, handed back as the task's input type, stands for
itself when returned, and tables written but not returned stay in the stage and in the cache."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from tabledag import (
    DeclarationError,
    FinalTaskState,
    Flow,
    Stage,
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


def _views(config: Any, stage: str) -> list[str]:
    store = config.store_object
    with store.session() as session:
        return [t.name for t in session.stage_tables(stage)]
