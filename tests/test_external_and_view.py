"""`ExternalTableReference` inputs (tables tabledag does not manage) and `View` outputs, on
DuckDB and Postgres: read where they are, re-run in every run unless a cache function says
when they changed; a view selects, renames, sorts and limits its input tables."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from tabledag import (
    ExternalTableReference,
    FinalTaskState,
    Flow,
    SortCol,
    SortOrder,
    Stage,
    Table,
    View,
    materialize,
)

from .conftest import StoreTarget, on_duckdb_and_postgres
from .dbutil import qname
from .dbutil import query as execute


@materialize(lazy=True, input_type=sa.Table)
def selection(t: sa.Alias) -> Table:
    return Table(
        View(t, columns={"ident": "id", "label": "name"}, sort_by=[t.c.id.desc()], limit=2),
        "selection",
    )


@materialize(lazy=True, input_type=sa.Table)
def stacked(a: sa.Alias, b: sa.Alias) -> Table:
    return Table(View([a, b], columns=["id"], sort_by=SortCol("id", SortOrder.ASC)), "stacked")


@on_duckdb_and_postgres
def test_external_inputs_are_read_where_they_are(target: StoreTarget) -> None:
    config = target.config()
    schema = f"{target.schema_prefix}outside"
    execute(config, f"CREATE SCHEMA IF NOT EXISTS {schema}")
    execute(config, f"CREATE TABLE {qname(schema, 'people')} (id INT, name VARCHAR(10))")
    execute(config, f"INSERT INTO {qname(schema, 'people')} VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    people = Table(ExternalTableReference("people", schema=schema))

    def build() -> tuple[Flow, Any, Any]:
        with Flow("external") as flow, Stage("s"):
            picked = selection(people)
            both = stacked(people, ExternalTableReference("people", schema=schema))
        return flow, picked, both

    flow, picked, both = build()
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    assert result.get(picked, as_type=pa.Table).to_pylist() == [
        {"ident": 3, "label": "c"},
        {"ident": 2, "label": "b"},
    ]
    assert result.get(both, as_type=pa.Table).column("id").to_pylist() == [1, 1, 2, 2, 3, 3]
    execute(config, f"INSERT INTO {qname(schema, 'people')} VALUES (4, 'd')")
    flow, picked, _ = build()
    again = flow.run(config=config)
    # no cache function: an external input is outside every key, so the task runs again
    assert again.states[picked.call] is FinalTaskState.COMPLETED
    assert again.get(picked, as_type=pa.Table).column("ident").to_pylist() == [4, 3]
    execute(config, f"DROP SCHEMA {schema} CASCADE")


@materialize(version="1")
def point_at(schema: str) -> Table:
    return Table(ExternalTableReference("people", schema=schema))


@materialize(lazy=True, input_type=sa.Table)
def count_people(t: sa.Alias) -> Any:
    return sa.select(sa.func.count().label("n")).select_from(t)


@on_duckdb_and_postgres
def test_an_external_reference_returned_by_a_task_is_handed_on_not_copied(
    target: StoreTarget,
) -> None:
    config = target.config()
    schema = f"{target.schema_prefix}elsewhere"
    execute(config, f"CREATE SCHEMA IF NOT EXISTS {schema}")
    execute(config, f"CREATE TABLE {qname(schema, 'people')} (id INT)")
    execute(config, f"INSERT INTO {qname(schema, 'people')} VALUES (1), (2)")
    with Flow("handed_on") as flow:
        with Stage("src"):
            ref = point_at(schema)
        with Stage("use"):
            counted = count_people(ref)
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    assert result.get(ref) == ExternalTableReference("people", schema=schema)
    assert result.get(counted, as_type=pa.Table).to_pylist() == [{"n": 2}]
    execute(config, f"INSERT INTO {qname(schema, 'people')} VALUES (3)")
    again = flow.run(config=config)
    assert again.states[ref.call] is FinalTaskState.CACHE_VALID  # versioned: kept
    assert again.states[counted.call] is FinalTaskState.COMPLETED  # reads it: runs again
    assert again.get(counted, as_type=pa.Table).to_pylist() == [{"n": 3}]
    execute(config, f"DROP SCHEMA {schema} CASCADE")
