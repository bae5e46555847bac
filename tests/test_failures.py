"""Failing tasks: how they are reported, what is skipped, and that committed data survives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tabledag import (
    Config,
    DuplicateNameError,
    FinalTaskState,
    Flow,
    HookError,
    Stage,
    TaskFailedError,
)

from . import tasks
from .dbutil import physical_tables, read_view, view_target


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(tasks.STATE, "data", 1)
    monkeypatch.setitem(tasks.STATE, "calls", [])
    yield


def good_flow() -> Flow:
    with Flow("f") as flow:
        with Stage("s"):
            data = tasks.unversioned_source()
            tasks.versioned_consumer(data)
        with Stage("t"):
            tasks.lazy_consumer(data)
    return flow


def failing_flow() -> tuple[Flow, dict]:
    """The same stage names; stage `s` now writes new data and then fails."""
    with Flow("f") as flow:
        with Stage("s"):
            data = tasks.unversioned_source()
            boom = tasks.explode(data)
        with Stage("t"):
            after = tasks.in_pyarrow.with_name("after")(boom)
            lazy = tasks.lazy_consumer(data)
    return flow, {"data": data, "boom": boom, "after": after, "lazy": lazy}


def test_task_exception_is_reported(config: Config) -> None:
    flow, refs = failing_flow()
    result = flow.run(config=config)
    assert not result.successful
    error = result.exception
    assert isinstance(error, TaskFailedError)
    assert error.task == "explode"
    assert error.stage == "s"
    assert "'explode'" in str(error)
    assert "'s'" in str(error)
    assert "kaboom from explode" in str(error)
    assert isinstance(error.__cause__, tasks.Boom)
    assert str(error.__cause__) == "kaboom from explode"
    states = result.task_states
    assert states[refs["data"]] is FinalTaskState.COMPLETED
    assert states[refs["boom"]] is FinalTaskState.FAILED
    assert states["s.explode"] is FinalTaskState.FAILED


def test_downstream_of_a_failure_is_skipped(config: Config) -> None:
    flow, refs = failing_flow()
    result = flow.run(config=config)
    assert result.states[refs["after"].call] is FinalTaskState.SKIPPED
    # A task of the failed stage that succeeded stays COMPLETED, but its stage did not commit,
    # so a later task reading it is SKIPPED too (see test_stage_safety.py).
    assert result.states[refs["data"].call] is FinalTaskState.COMPLETED
    # On a parallel engine `lazy` may start (its input's table exists) before `boom` fails;
    # either way stage t, which reads the failed stage s, does not commit.
    lazy_states = {FinalTaskState.SKIPPED}
    if config.orchestration is not None:
        lazy_states.add(FinalTaskState.COMPLETED)
    assert result.states[refs["lazy"].call] in lazy_states
    assert "s" not in result.committed and "t" not in result.committed
    with pytest.raises(KeyError, match="after"):
        result.get(refs["after"])


@pytest.mark.in_process
def test_failed_stage_keeps_committed_views_and_data(config: Config, monkeypatch) -> None:
    first = good_flow().run(config=config)
    assert first.successful, repr(first.exception)
    committed = {
        ("s", "unversioned_source"): view_target(config, "s", "unversioned_source"),
        ("s", "versioned_consumer"): view_target(config, "s", "versioned_consumer"),
        ("t", "lazy_consumer"): view_target(config, "t", "lazy_consumer"),
    }

    monkeypatch.setitem(tasks.STATE, "data", 2)
    flow, _refs = failing_flow()
    result = flow.run(config=config)
    assert not result.successful

    # Another client still sees the first run's data, through the same physical tables.
    assert read_view(config, "s", "unversioned_source", order_by="id") == [(1, 10), (2, 10)]
    assert read_view(config, "s", "versioned_consumer", order_by="id") == [(1, 10, 1), (2, 10, 1)]
    for (stage, view), physical in committed.items():
        assert view_target(config, stage, view) == physical

    # ... and the next good run commits the new data over it.
    again = good_flow().run(config=config)
    assert again.successful, repr(again.exception)
    assert read_view(config, "s", "unversioned_source", order_by="id") == [
        (1, 20),
        (2, 20),
        (3, 20),
    ]
    assert [r[1] for r in read_view(config, "t", "lazy_consumer")] == [20] * 3


def test_failure_in_later_stage_keeps_earlier_stage_committed(config: Config) -> None:
    with Flow("f") as flow:
        with Stage("a"):
            data = tasks.unversioned_source()
        with Stage("b"):
            tasks.explode(data)
    result = flow.run(config=config)
    assert not result.successful
    assert read_view(config, "a", "unversioned_source", order_by="id") == [(1, 10), (2, 10)]


def test_fail_fast_raises(config: Config) -> None:
    flow, _refs = failing_flow()
    with pytest.raises(TaskFailedError, match="explode") as info:
        flow.run(config=config, fail_fast=True)
    assert isinstance(info.value.__cause__, tasks.Boom)
    # The run released its locks and connection: the store is usable at once.
    result = good_flow().run(config=config)
    assert result.successful, repr(result.exception)


@pytest.mark.parametrize(
    ("task", "type_name"),
    [(tasks.returns_object, "builtins.object"), (tasks.returns_lock, "_thread.lock")],
    ids=["object", "lock"],
)
def test_unsupported_return_type_explains_itself(config: Config, task, type_name: str) -> None:
    with Flow("f") as flow, Stage("weird"):
        task()
    result = flow.run(config=config)
    assert not result.successful
    error = result.exception
    assert isinstance(error, TaskFailedError)
    assert isinstance(error.__cause__, HookError)
    message = str(error)
    assert repr(task.name) in message
    assert "'weird'" in message
    assert type_name in message
    for supported in ("pyarrow.Table", "pandas.DataFrame", "polars.DataFrame", "ibis.Table"):
        assert supported in message, (supported, message)


def test_two_tables_with_the_same_name_from_one_task(config: Config) -> None:
    with Flow("f") as flow, Stage("s"):
        tasks.two_same_names()
    result = flow.run(config=config)
    assert not result.successful
    assert isinstance(result.exception, TaskFailedError)
    assert isinstance(result.exception.__cause__, DuplicateNameError)
    assert "'dup'" in str(result.exception)


def test_two_tasks_writing_the_same_table_name(config: Config) -> None:
    with Flow("f") as flow, Stage("s"):
        tasks.named_shared_a()
        tasks.named_shared_b()
    result = flow.run(config=config)
    assert not result.successful
    assert isinstance(result.exception, TaskFailedError)
    # The second to claim the name fails: in flow order on the sequential engine, whichever
    # finishes second on a parallel one.
    losers = (
        {"named_shared_b"} if config.orchestration is None else {"named_shared_a", "named_shared_b"}
    )
    assert result.exception.task in losers
    assert isinstance(result.exception.__cause__, DuplicateNameError)
    assert "'shared'" in str(result.exception)


@pytest.mark.in_process
def test_tables_left_by_a_failed_run_are_dropped_later(config: Config, monkeypatch) -> None:
    good_flow().run(config=config)
    committed = physical_tables(config, "s")
    monkeypatch.setitem(tasks.STATE, "data", 2)
    failing_flow()[0].run(config=config)
    orphans = physical_tables(config, "s") - committed
    assert orphans, "the failed run wrote its new source table before failing"
    monkeypatch.setitem(tasks.STATE, "data", 3)
    result = good_flow().run(config=config)
    assert result.successful, repr(result.exception)
    assert not orphans & physical_tables(config, "s")
    # The first generation is the previous one now, and is kept.
    assert committed <= physical_tables(config, "s")
