"""Committed stages survive anything a run does: a stop after any single statement, a failed
stage upstream, a failing statement beside finished work.

The stop uses the store's `fault_point` seam (tests/faults.py): a run is stopped right after
the n-th statement of a phase, for every statement a third run sends while writing, committing
and cleaning up (its cleanup drops the first generation's tables). After each stop the
committed stages must show one whole generation, every record must name a table that exists,
and the next runs (with the stopped run's data, and with the first run's, whose tables are
gone) must succeed by themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest

from tabledag import Config, FinalTaskState, Flow, Stage, Table, materialize

from .conftest import StoreTarget, _drop_prefixed_schemas, _make_target
from .dbutil import physical_tables, qname, query, read_view
from .faults import PHASES, SimulatedCrash, recorded_points

STATE: dict[str, Any] = {"value": 1, "fail": False}


@materialize()
def source() -> Table:
    value = STATE["value"]
    return Table(pa.table({"i": [0, 1, 2], "v": [value] * 3}), primary_key="i")


@materialize(version="1")
def constant() -> pa.Table:
    return pa.table({"k": [1, 2]})


@materialize(lazy=True, input_type=str)
def doubled(src: str) -> str:
    return f"SELECT i, v * 2 AS v2 FROM {src}"


@materialize(lazy=True, input_type=ibis.Table)
def total(src: ibis.Table) -> ibis.Table:
    return src.aggregate(n=src.count(), s=src.v.sum())


@materialize(lazy=True, input_type=str)
def joined(d: str, c: str) -> str:
    return f"SELECT d.i, d.v2, c.k FROM {d} AS d JOIN {c} AS c ON d.i = c.k"


def safety_flow() -> Flow:
    with Flow("safety") as flow:
        with Stage("raw"):
            s = source()
            c = constant()
            d = doubled(s)
        with Stage("model"):
            total(s)
            joined(d, c)
    return flow


def run(config: Config, value: int) -> Any:
    STATE["value"] = value
    return safety_flow().run(config=config)


def shown_value(config: Config, stage: str) -> int:
    """The data generation a stage's views show, checking they all show the same one."""
    if stage == "raw":
        rows = read_view(config, "raw", "source", order_by="i")
        value = rows[0][1]
        assert rows == [(i, value) for i in range(3)]
        assert read_view(config, "raw", "doubled", order_by="i") == [
            (i, 2 * value) for i in range(3)
        ]
        assert read_view(config, "raw", "constant", order_by="k") == [(1,), (2,)]
        return value
    ((n, s),) = read_view(config, "model", "total")
    assert n == 3 and s % 3 == 0
    value = s // 3
    assert read_view(config, "model", "joined", order_by="i") == [
        (1, 2 * value, 1),
        (2, 2 * value, 2),
    ]
    return value


def recorded_tables(config: Config) -> set[tuple[str, str]]:
    meta = config.store.metadata_schema
    rows = query(config, f"SELECT stage, physical FROM {qname(meta, 'tables')}")
    return {(stage, physical) for stage, physical in rows}


def present_tables(config: Config) -> set[tuple[str, str]]:
    return {(s, p) for s in ("raw", "model") for p in physical_tables(config, s)}


def check_intact(config: Config, allowed: set[int]) -> None:
    for stage in ("raw", "model"):
        assert shown_value(config, stage) in allowed, stage
    missing = recorded_tables(config) - present_tables(config)
    assert not missing, f"records name tables that do not exist: {missing}"


def fresh(target: StoreTarget, tmp: Path, name: str) -> StoreTarget:
    """Another database (DuckDB) or schema prefix (Postgres) of the same kind."""
    directory = tmp / name
    directory.mkdir()
    return _make_target(target.kind, directory)


COMMIT_POINTS_ONLY = ("parquet_s3", "snowflake")
SNOWFLAKE_COMMIT_STEPS = ("CREATE OR REPLACE VIEW", "DROP VIEW", "ALTER SCHEMA", "COMMIT")


def points_of_a_third_run(target: StoreTarget, tmp: Path) -> list[tuple[str, int, str]]:
    probe = fresh(target, tmp, "probe")
    try:
        assert run(probe.config(), 1).successful
        assert run(probe.config(), 2).successful
        log = tmp / "statements.log"
        result = run(probe.faulty(record=str(log)), 3)
        assert result.successful, repr(result.exception)
        # On S3 (slow per request) every commit point; writes and cleanups are covered by the
        # same store on local disk. On Snowflake (fakesnow: slow per statement) too: its commit
        # is its own, its writes and cleanups are the SQL store's, covered on DuckDB/Postgres.
        phases = ("commit",) if target.kind in COMMIT_POINTS_ONLY else PHASES
        points = [p for p in recorded_points(log) if p[0] in phases]
        if target.kind == "snowflake":  # its own commit steps: the view DDL and the COMMIT
            points = [p for p in points if p[2].startswith(SNOWFLAKE_COMMIT_STEPS)]
        return points
    finally:
        if probe.kind == "postgres":
            _drop_prefixed_schemas(probe.url, probe.schema_prefix)


def test_a_run_stopped_after_any_statement_damages_nothing(
    target: StoreTarget, tmp_path: Path
) -> None:
    points = points_of_a_third_run(target, tmp_path)
    phases = {phase for phase, _, _ in points}
    if target.kind not in COMMIT_POINTS_ONLY:
        assert phases == set(PHASES), phases  # the probe saw writes, commits and cleanups
        drops = [p for p in points if p[0] == "cleanup" and p[2].startswith("DROP")]
        assert any("__data" in p[2].lower() for p in drops), points  # Snowflake: __DATA
    assert "commit" in phases
    failures = []
    for n, (phase, index, statement) in enumerate(points):
        place = fresh(target, tmp_path, f"point{n}")
        try:
            config = place.config()
            assert run(config, 1).successful
            assert run(config, 2).successful
            stopped = place.faulty(crash_at=[phase, index])
            with pytest.raises(SimulatedCrash):
                run(stopped, 3)
            check_intact(config, {2, 3})
            again = run(place.config(), 3)
            assert again.successful, repr(again.exception)
            assert {shown_value(config, s) for s in ("raw", "model")} == {3}
            back = run(place.config(), 1)
            assert back.successful, repr(back.exception)
            check_intact(config, {1})
            assert present_tables(config) == recorded_tables(config), "cleanup did not converge"
        except Exception as error:
            failures.append(f"after {phase} #{index} ({statement[:70]}): {error!r}")
        finally:
            if place.kind == "postgres":
                _drop_prefixed_schemas(place.url, place.schema_prefix)
    assert not failures, "\n".join(failures)


# -- a failed stage never leaks into a later one (item 2) ------------------------------------------


@materialize()
def maybe_fails(data: pa.Table) -> pa.Table:
    if STATE["fail"]:
        raise RuntimeError("upstream failure")
    return data


@materialize(input_type=pa.Table)
def reads_upstream(data: pa.Table) -> pa.Table:
    return data


@materialize()
def independent() -> pa.Table:
    return pa.table({"x": [STATE["value"]]})


def leaking_flow() -> tuple[Flow, dict[str, Any]]:
    with Flow("leak") as flow:
        with Stage("a"):
            s = source()
            bad = maybe_fails(s)
        with Stage("b"):
            reader = reads_upstream.with_name("reader")(s)
            free = independent()
        with Stage("c"):
            other = independent.with_name("other")()
    return flow, {"source": s, "bad": bad, "reader": reader, "free": free, "other": other}


def test_a_stage_reading_a_failed_stage_does_not_commit(config: Config) -> None:
    STATE.update(value=1, fail=False)
    flow, refs = leaking_flow()
    assert flow.run(config=config).successful
    STATE.update(value=2, fail=True)
    flow, refs = leaking_flow()
    result = flow.run(config=config)
    states = result.task_states
    assert states[refs["source"]] is FinalTaskState.COMPLETED  # ran, in a stage that failed
    assert states[refs["bad"]] is FinalTaskState.FAILED
    assert states[refs["reader"]] is FinalTaskState.SKIPPED  # its input was never published
    assert states[refs["free"]] is FinalTaskState.COMPLETED
    assert states[refs["other"]] is FinalTaskState.COMPLETED
    assert result.committed == {"c"}
    # b still shows what the first run committed: nothing of a's unpublished data
    assert read_view(config, "b", "reader", order_by="i") == [(i, 1) for i in range(3)]
    assert read_view(config, "b", "independent") == [(1,)]
    assert read_view(config, "c", "other") == [(2,)]  # a stage reading nothing of a commits
    STATE["fail"] = False


# -- one failing statement never takes finished work with it (item 3) ------------------------------


@materialize()
def finished() -> pa.Table:
    return pa.table({"x": [1, 2]})


@materialize(lazy=True)
def bad_sql() -> str:
    return "SELECT CAST('not a number' AS INTEGER) AS x"


@materialize(lazy=True)
def later_sql() -> str:
    return "SELECT 42 AS answer"


def test_a_failing_statement_leaves_the_others_written(config: Config) -> None:
    with Flow("poison") as flow, Stage("s"):
        first = finished()
        bad = bad_sql()
        later = later_sql()
    result = flow.run(config=config)
    states = result.task_states
    assert states[first] is FinalTaskState.COMPLETED
    assert states[bad] is FinalTaskState.FAILED
    assert "bad_sql" in str(result.exception)
    assert states[later] is FinalTaskState.COMPLETED
    written = physical_tables(config, "s")
    assert any(name.startswith("finished__") for name in written), written
    assert any(name.startswith("later_sql__") for name in written), written
    assert result.get(later).to_pylist() == [{"answer": 42}]
