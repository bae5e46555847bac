"""`@materialize(cache=fn)`, `allow_fresh_input` and `CacheValidationMode`, on DuckDB and
Postgres: a new cache value runs the task (a lazy one's query too), and each mode ignores,
forbids or forces fresh input as pipedag's does."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from tabledag import (
    CacheValidationMode,
    FinalTaskState,
    Flow,
    FreshInputError,
    Stage,
    Table,
    materialize,
)

from .conftest import StoreTarget, on_duckdb_and_postgres
from .dbutil import qname
from .dbutil import query as execute

source = {"rows": [1, 2], "version": "1"}
runs: list[str] = []


def source_state() -> Any:
    return source["rows"]


def build() -> Flow:
    @materialize(version=source["version"], cache=source_state, name="load")
    def load() -> Table:
        runs.append("load")
        return Table(pa.table({"n": list(source["rows"])}), "loaded")

    @materialize(version="1", name="plain")
    def plain() -> Table:
        runs.append("plain")
        return Table(pa.table({"p": [1]}), "plain")

    with Flow("fresh") as flow, Stage("s"):
        load()
        plain()
    return flow


def states(result: Any) -> dict[str, FinalTaskState]:
    return {call.name: state for call, state in result.states.items()}


@on_duckdb_and_postgres
def test_a_new_cache_value_runs_the_task_and_modes_decide(target: StoreTarget) -> None:
    config = target.config()
    source.update(rows=[1, 2], version="1")
    runs.clear()
    flow = build()
    assert flow.run(config=config).successful
    assert states(build().run(config=config)) == {
        "load": FinalTaskState.CACHE_VALID,
        "plain": FinalTaskState.CACHE_VALID,
    }
    source["rows"] = [1, 2, 3]  # the input changed where tabledag cannot see it
    ignored = build().run(config=config, cache_validation_mode="ignore_fresh_input")
    assert states(ignored)["load"] is FinalTaskState.CACHE_VALID
    asserted = build().run(
        config=config, cache_validation_mode=CacheValidationMode.ASSERT_NO_FRESH_INPUT
    )
    assert asserted.successful  # ignored, and nothing had to run
    normal = build().run(config=config)
    assert states(normal)["load"] is FinalTaskState.COMPLETED
    assert normal.get(normal.flow["s"].tasks[0], as_type=pa.Table).num_rows == 3
    assert runs == ["load", "plain", "load"]

    forced = build().run(config=config, cache_validation_mode="force_fresh_input")
    assert states(forced) == {"load": FinalTaskState.COMPLETED, "plain": FinalTaskState.CACHE_VALID}
    everything = build().run(config=config, cache_validation_mode="force_cache_invalid")
    assert set(states(everything).values()) == {FinalTaskState.COMPLETED}

    source["version"] = "2"  # the task must run: ASSERT_NO_FRESH_INPUT forbids it
    refused = build().run(config=config, cache_validation_mode="assert_no_fresh_input")
    assert not refused.successful
    assert isinstance(refused.exception.__cause__, FreshInputError), repr(refused.exception)
    assert "allow_fresh_input" in str(refused.exception)


@on_duckdb_and_postgres
def test_a_lazy_query_over_a_user_table_reruns_when_its_cache_value_changes(
    target: StoreTarget,
) -> None:
    config = target.config()
    schema = f"{target.schema_prefix}user_owned"
    execute(config, f"CREATE SCHEMA IF NOT EXISTS {schema}")
    execute(config, f"CREATE TABLE {qname(schema, 'events')} AS SELECT 1 AS id")

    def row_count() -> int:
        return int(execute(config, f"SELECT COUNT(*) FROM {qname(schema, 'events')}")[0][0])

    def build_lazy(cache: Any) -> tuple[Flow, Any]:
        @materialize(lazy=True, cache=cache, name="events")
        def events() -> str:
            return f"SELECT id FROM {qname(schema, 'events')}"

        with Flow("external") as flow, Stage("s"):
            out = events()
        return flow, out

    def ids(result: Any, ref: Any) -> list[int]:
        return sorted(result.get(ref, as_type=pa.Table).column("id").to_pylist())

    blind, blind_out = build_lazy(None)
    assert blind.run(config=config).successful
    execute(config, f"INSERT INTO {qname(schema, 'events')} VALUES (2)")
    stale = build_lazy(None)[0].run(config=config)
    # the pitfall a cache function closes: same SQL, same inputs, so the old table stands
    assert stale.states[blind_out.call] is FinalTaskState.CACHE_VALID
    assert ids(stale, blind_out) == [1]

    watched, out = build_lazy(row_count)
    first = watched.run(config=config)
    assert ids(first, out) == [1, 2]
    assert set(states(build_lazy(row_count)[0].run(config=config)).values()) == {
        FinalTaskState.CACHE_VALID
    }
    execute(config, f"INSERT INTO {qname(schema, 'events')} VALUES (3)")
    again = build_lazy(row_count)[0].run(config=config)
    assert again.states[out.call] is FinalTaskState.COMPLETED  # the count changed: re-run
    assert ids(again, out) == [1, 2, 3]
    execute(config, f"DROP SCHEMA {schema} CASCADE")


def test_an_unknown_mode_is_a_clear_error(tmp_path: Any) -> None:
    from tabledag import ConfigError, create_basic_config

    flow = build()
    with pytest.raises(ConfigError, match="unknown mode 'sometimes'"):
        flow.run(
            config=create_basic_config(f"duckdb:///{tmp_path}/x.duckdb"),
            cache_validation_mode="sometimes",
        )


@on_duckdb_and_postgres
def test_the_mode_comes_from_the_config(target: StoreTarget) -> None:
    import dataclasses

    source.update(rows=[5], version="1")
    config = target.config()
    assert build().run(config=config).successful
    source["rows"] = [5, 6]
    ignoring = dataclasses.replace(config, cache_validation={"mode": "IGNORE_FRESH_INPUT"})
    assert states(build().run(config=ignoring))["load"] is FinalTaskState.CACHE_VALID
    assert states(build().run(config=config))["load"] is FinalTaskState.COMPLETED
