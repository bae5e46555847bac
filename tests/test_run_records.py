"""Run records: every run leaves one record in its store (per task: state, start, duration,
rows, bytes, SQL, error), found again by id from a new store object, on every store."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from tabledag import Flow, Stage, materialize
from tabledag.core.records import RunDetails

from .conftest import StoreTarget


@materialize(version="1")
def numbers() -> pa.Table:
    return pa.table({"n": list(range(10)), "label": [f"<b>{i}</b>" for i in range(10)]})


@materialize(lazy=True, input_type=str)
def big(numbers: str) -> str:
    return f"SELECT n, label FROM {numbers} WHERE n > 4"


@materialize(version="1", input_type=pa.Table)
def broken(big: pa.Table) -> pa.Table:
    raise ValueError(f"cannot use {big.num_rows} rows & <tags>")


@materialize(version="1", input_type=pa.Table)
def after(x: pa.Table) -> pa.Table:
    return x


def build(fail: bool) -> Flow:
    with Flow("records") as flow:
        with Stage("raw"):
            n = numbers()
        with Stage("model"):
            b = big(n)
            if fail:
                after(broken(b))
    return flow


def details(target: StoreTarget, run_id: str) -> RunDetails:
    config = target.config()  # a new store object: the record comes from the store
    try:
        with config.store.session() as session:
            (record,) = session.run_records(run_id)
    finally:
        if target.kind != "memory":  # closing an in-memory store drops its tables
            config.store.close()
    return RunDetails.of(record)


def test_each_run_is_recorded_with_its_tasks(target: StoreTarget) -> None:
    flow = build(fail=False)
    first = flow.run(config=target.config())
    second = flow.run(config=target.config())
    assert first.successful and second.successful
    assert first.run_id != second.run_id
    assert first.record is not None and first.record.run_id == first.run_id

    run = details(target, first.run_id)
    assert run.flow == "records" and run.successful
    tasks = {t.id: t for t in run.tasks}
    assert list(tasks) == ["raw.numbers", "model.big"]
    assert tasks["raw.numbers"].state == "COMPLETED"
    (table,) = tasks["raw.numbers"].tables
    assert (table.name, table.rows, table.hit) == ("numbers", 10, False)
    assert table.bytes is not None and table.bytes > 0
    assert "WHERE" in tasks["model.big"].sql["big"].upper()
    assert all(t.start >= 0 and t.duration >= 0 for t in run.tasks)
    assert run.duration >= max(t.start + t.duration for t in run.tasks) - 1e-3

    again = {t.id: t for t in details(target, second.run_id).tasks}
    assert again["raw.numbers"].state == "CACHE_VALID"
    assert again["model.big"].state == "CACHE_VALID"
    assert all(t.hit for t in again["model.big"].tables)


def test_newest_first_and_a_unique_prefix_finds_a_run(target: StoreTarget) -> None:
    flow = build(fail=False)
    ids = [flow.run(config=target.config()).run_id for _ in range(3)]
    config = target.config()
    try:
        with config.store.session() as session:
            assert [r.run_id for r in session.run_records(limit=2)] == ids[:0:-1]
            assert [r.run_id for r in session.run_records()] == ids[::-1]
            (found,) = session.run_records(ids[1][:12])
            assert found.run_id == ids[1]
            assert session.run_records("no-such-run") == []
    finally:
        if target.kind != "memory":
            config.store.close()


def test_a_store_that_never_ran_has_no_records(target: StoreTarget) -> None:
    config = target.config()
    with config.store.session() as session:
        assert session.run_records() == []


def test_a_failure_is_recorded_with_its_task_and_message(target: StoreTarget) -> None:
    result = build(fail=True).run(config=target.config())
    assert not result.successful
    run = details(target, result.run_id)
    assert not run.successful
    states = {t.id: t.state for t in run.tasks}
    assert states["model.broken"] == "FAILED"
    assert states["model.after"] == "SKIPPED"
    (error,) = run.errors
    assert (error.stage, error.task, error.type) == ("model", "broken", "ValueError")
    assert "cannot use 5 rows & <tags>" in error.message
    document = json.loads(result.record.document)  # type: ignore[union-attr]
    assert document["tasks"][2]["error"]["message"] == error.message


@pytest.mark.parametrize("store_kind", ["duckdb"])
def test_a_failed_write_names_its_table(target: StoreTarget) -> None:
    """A task whose table cannot be written: the record names that table."""

    @materialize(version="1")
    def wide() -> object:
        from tabledag import Table

        return Table(pa.table({"x": [1]}), name="wide_out", primary_key=["no_such_column"])

    with Flow("records") as flow, Stage("raw"):
        wide()
    result = flow.run(config=target.config())
    assert not result.successful
    (error,) = details(target, result.run_id).errors
    assert (error.task, error.table) == ("wide", "wide_out")


@pytest.mark.parametrize(
    "store_kind", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_run_stopped_by_fail_fast_is_recorded_too(target: StoreTarget) -> None:
    from tabledag import TaskFailedError

    with pytest.raises(TaskFailedError, match="cannot use 5 rows"):
        build(fail=True).run(config=target.config(), fail_fast=True)
    config = target.config()
    try:
        with config.store.session() as session:
            (record,) = session.run_records()
    finally:
        config.store.close()
    run = RunDetails.of(record)
    assert not run.successful
    states = {t.id: t.state for t in run.tasks}
    assert (states["model.broken"], states["model.after"]) == ("FAILED", "SKIPPED")
