"""Engines: threads, processes and a Dask cluster run tasks at once, start a task before its
input's stage commits, keep failures to the tasks they touch, and fail a task whose worker died.

Concurrency is shown by meeting, not by timing: tasks that must run at the same time wait for
each other (a barrier in the process, or rows in a Postgres table), so a run that serialised
them would fail. Speed-ups are measured in `benchmarks/engines.py`.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tabledag import (
    ConfigError,
    DaskEngine,
    FinalTaskState,
    Flow,
    ProcessEngine,
    Stage,
    TaskEvent,
    TaskFailedError,
    ThreadEngine,
    WorkerDiedError,
    materialize,
)
from tabledag.config import Config

from . import conftest
from . import engine_tasks as t
from .conftest import StoreTarget, _make_target, _release
from .dbutil import read_view

OTHER_PROCESSES = ["processes", pytest.param("dask", marks=pytest.mark.dask)]
ALL = ["threads", *OTHER_PROCESSES]


@pytest.fixture
def dask_address() -> str:
    return conftest.dask_address()


def engine(name: str, request: pytest.FixtureRequest) -> Any:
    if name == "threads":
        return ThreadEngine(2)
    if name == "processes":
        return ProcessEngine(2)
    return DaskEngine(request.getfixturevalue("dask_address"))


@pytest.fixture
def pg(tmp_path: Path) -> Any:
    target = _make_target("postgres", tmp_path)
    yield target
    _release(target)


def meeting_place(target: StoreTarget, engine_name: str, parties: int) -> dict[str, Any]:
    name = f"meet_{uuid.uuid4().hex[:12]}"
    if engine_name == "threads" and target.kind != "postgres":
        return {"kind": "process", "name": name, "parties": parties}
    import psycopg2

    schema = f"{target.schema_prefix}meetings"  # dropped with the test's schemas
    con = psycopg2.connect(target.url)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            cur.execute(f'CREATE TABLE "{schema}"."{name}" (who TEXT)')
    finally:
        con.close()
    return {"kind": "db", "url": target.url, "name": f'"{schema}"."{name}"', "parties": parties}


def _target_for(engine_name: str, request: pytest.FixtureRequest) -> StoreTarget:
    """A DuckDB file for threads (the strictest case: one database, many cursors), Postgres
    for engines with workers in other processes."""
    if engine_name == "threads":
        return _make_target("duckdb", request.getfixturevalue("tmp_path"))
    return request.getfixturevalue("pg")


# -- running at once --------------------------------------------------------------------------


@pytest.mark.parametrize("engine_name", ["threads"])
def test_threads_run_independent_tasks_at_once_on_every_store(
    target: StoreTarget, engine_name: str, request: pytest.FixtureRequest
) -> None:
    parties = 1 if target.kind == "memory" else 2  # its one connection serves one task at a time
    where = meeting_place(target, engine_name, parties)
    with Flow("f") as flow, Stage("s"):
        a = t.meeting.with_name("a")(where, "a")
        b = t.meeting.with_name("b")(where, "b")
    result = flow.run(target.config(), engine=engine(engine_name, request))
    assert result.successful, result.exception
    assert result.get(a, as_type=pa.Table)["who"].to_pylist() == ["a"]
    assert result.get(b, as_type=pa.Table)["who"].to_pylist() == ["b"]


@pytest.mark.postgres
@pytest.mark.parametrize("engine_name", ALL)
def test_independent_tasks_run_at_once(
    pg: StoreTarget, engine_name: str, request: pytest.FixtureRequest
) -> None:
    where = meeting_place(pg, engine_name, 2)
    with Flow("f") as flow, Stage("s"):
        a = t.meeting.with_name("a")(where, "a")
        b = t.meeting.with_name("b")(where, "b")
    result = flow.run(pg.config(), engine=engine(engine_name, request))
    assert result.successful, result.exception
    assert result.get(a, as_type=pa.Table)["who"].to_pylist() == ["a"]
    assert result.get(b, as_type=pa.Table)["who"].to_pylist() == ["b"]
    if engine_name != "threads":  # written by the workers, not by the driver
        import os

        pids = {result.get(x, as_type=pa.Table)["pid"][0].as_py() for x in (a, b)}
        assert os.getpid() not in pids


@pytest.mark.parametrize("engine_name", ALL)
def test_a_task_starts_before_its_inputs_stage_commits(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """`late` (stage 2) reads `early` (stage 1) and must meet `partner` (stage 1): only a
    task that starts before stage 1 commits can."""
    target = _target_for(engine_name, request)
    where = meeting_place(target, engine_name, 2)
    with Flow("f") as flow:
        with Stage("one"):
            early = t.rows(3)
            t.meeting.with_name("partner")(where, "partner")
        with Stage("two"):
            late = t.meeting.with_name("late")(where, "late", early)
    result = flow.run(target.config(), engine=engine(engine_name, request))
    assert result.successful, result.exception
    assert result.committed == {"one", "two"}
    assert result.get(late, as_type=pa.Table)["who"].to_pylist() == ["late"]


# -- failures -----------------------------------------------------------------------------------


def failing_flow() -> tuple[Flow, dict[str, Any]]:
    with Flow("f") as flow:
        with Stage("one"):
            data = t.rows(5)
            bad = t.explode_on(data)
            good = t.count_rows(data)
        with Stage("two"):
            after_bad = t.count_rows.with_name("after_bad")(bad)
            after_good = t.count_rows.with_name("after_good")(good)
    return flow, {"bad": bad, "good": good, "after_bad": after_bad, "after_good": after_good}


@pytest.mark.parametrize("engine_name", ALL)
def test_a_failure_stops_its_dependents_only(
    engine_name: str, request: pytest.FixtureRequest
) -> None:
    target = _target_for(engine_name, request)
    flow, refs = failing_flow()
    result = flow.run(target.config(), engine=engine(engine_name, request))
    states = result.task_states
    assert states[refs["bad"]] is FinalTaskState.FAILED
    assert states[refs["good"]] is FinalTaskState.COMPLETED
    assert states[refs["after_bad"]] is FinalTaskState.SKIPPED
    assert result.committed == set()  # stage one failed; stage two reads it
    assert isinstance(result.exception, TaskFailedError)
    assert "this task fails on purpose" in str(result.exception)


@pytest.mark.postgres
@pytest.mark.parametrize("engine_name", OTHER_PROCESSES)
def test_a_killed_worker_fails_its_task_and_the_run_ends(
    pg: StoreTarget, engine_name: str, request: pytest.FixtureRequest
) -> None:
    config = pg.config()
    with Flow("f") as before, Stage("s"):
        t.pid_table()
    assert before.run(config).successful
    kept = read_view(config, "s", "pid_table")

    with Flow("f") as flow, Stage("s"):
        dead = t.die()
        alive = t.pid_table()
        counted = t.count_rows(t.rows(4))
    result = flow.run(config, engine=engine(engine_name, request))
    assert result.task_states[dead] is FinalTaskState.FAILED
    assert result.task_states[alive] is FinalTaskState.COMPLETED
    assert result.task_states[counted] is FinalTaskState.COMPLETED
    assert "s" not in result.committed
    message = str(result.exception)
    assert "'die'" in message
    if engine_name == "processes":
        assert isinstance(result.exception, WorkerDiedError)
        assert "died before it finished" in message
    else:
        assert "KilledWorker" in message or "died" in message
    assert read_view(config, "s", "pid_table") == kept  # the committed stage is untouched


@pytest.mark.postgres
@pytest.mark.dask
def test_two_runs_of_one_instance_at_once_under_dask(
    pg: StoreTarget, request: pytest.FixtureRequest
) -> None:
    address = request.getfixturevalue("dask_address")
    with Flow("f") as flow:
        with Stage("one"):
            data = t.rows(7)
        with Stage("two"):
            t.count_rows(data)
            t.lazy_double(data)
    results: list[Any] = []

    def run() -> None:
        results.append(flow.run(pg.config(), engine=DaskEngine(address)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and all(r.successful for r in results), [r.exception for r in results]
    for result in results:
        assert result.get("two.count_rows", as_type=pa.Table)["n"].to_pylist() == [7]
        doubled = result.get("two.lazy_double", as_type=pa.Table)["i"].to_pylist()
        assert sorted(doubled) == [0, 2, 4, 6, 8, 10, 12]


# -- what cannot cross to a worker ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("engine_name", OTHER_PROCESSES)
def test_a_task_that_cannot_be_pickled_is_named(
    pg: StoreTarget, engine_name: str, request: pytest.FixtureRequest
) -> None:
    @materialize
    def local_task() -> pa.Table:
        return pa.table({"a": [1]})

    with Flow("f") as flow, Stage("s"):
        local = local_task()
        lambda_arg = t.meeting.with_name("lambda_arg")(lambda: None, "x")
        fine = t.pid_table()
    result = flow.run(pg.config(), engine=engine(engine_name, request))
    assert result.task_states[fine] is FinalTaskState.COMPLETED
    for ref in (local, lambda_arg):
        assert result.task_states[ref] is FinalTaskState.FAILED
    message = str(result.exception)
    assert "cannot be sent to a worker process" in message
    assert "local_task" in message or "lambda_arg" in message


@pytest.mark.parametrize("kind", ["duckdb", "parquet", "memory"])
@pytest.mark.parametrize("engine_name", OTHER_PROCESSES)
def test_one_process_stores_refuse_process_engines_plainly(
    kind: str, engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = _make_target(kind, tmp_path)
    try:
        with Flow("f") as flow, Stage("s"):
            t.pid_table()
        chosen = ProcessEngine(2) if engine_name == "processes" else DaskEngine(processes=True)
        with pytest.raises(ConfigError) as caught:
            flow.run(target.config(), engine=chosen)
        message = str(caught.value)
        assert "one process" in message and "ThreadEngine" in message
    finally:
        _release(target)


# -- configuration and progress ---------------------------------------------------------------


def test_orchestration_from_tabledag_yaml(tmp_path: Path) -> None:
    (tmp_path / "tabledag.yaml").write_text(
        "instances:\n"
        "  __any__:\n"
        "    table_store:\n"
        "      class: tabledag.SQLTableStore\n"
        f"      args: {{url: 'duckdb:///{tmp_path}/db.duckdb'}}\n"
        "    orchestration: {class: tabledag.ThreadEngine, args: {max_workers: 2}}\n"
    )
    config = Config.load(tmp_path / "tabledag.yaml").get()
    where = {"kind": "process", "name": f"yaml-{uuid.uuid4().hex}", "parties": 2}
    with Flow("f") as flow, Stage("s"):
        t.meeting.with_name("a")(where, "a")
        t.meeting.with_name("b")(where, "b")
    assert flow.run(config).successful  # two tasks that must meet: the threads ran


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"class": "tabledag.NoSuchEngine"}, "cannot import engine class"),
        ({"class": "threads", "args": {"max_wrkers": 2}}, "max_wrkers"),
        ({"class": "threads", "argz": {}}, "argz"),
        (42, "must be a mapping"),
    ],
)
def test_bad_orchestration_is_a_config_error(spec: Any, fragment: str, tmp_path: Path) -> None:
    from tabledag import create_basic_config

    with pytest.raises(ConfigError, match=fragment):
        create_basic_config(f"duckdb:///{tmp_path}/db.duckdb", orchestration=spec)


def test_progress_reports_every_task_as_it_starts_and_ends(config: Config) -> None:
    flow, _ = failing_flow()
    events: list[TaskEvent] = []
    result = flow.run(config, engine=ThreadEngine(2), progress=events.append)
    ends = {e.task: e.state for e in events if e.state != "RUNNING"}
    assert ends == {call.id: state.name for call, state in result.task_states.items()}
    started = {e.task for e in events if e.state == "RUNNING"}
    assert started == {c.id for c, s in result.task_states.items() if s.name != "SKIPPED"}
    last = events[-1].counts
    assert last.failed == 1 and last.done + last.cached + last.skipped == 4
    assert last.total == 5 and last.running == 0


# -- a second run waits, and says for whom ------------------------------------------------------


@pytest.mark.postgres
def test_a_waiting_run_names_the_holder_of_the_stage_lock(pg: StoreTarget) -> None:
    with Flow("f") as flow, Stage("s"):
        t.pid_table()
    other = pg.config().store.locks(5.0)
    with other.stage("s"):  # another run, on a connection of its own, holds stage s
        (pid,) = {row[0] for row in other.connection.execute("SELECT pg_backend_pid()")}
        result_error = None
        try:
            flow.run(pg.config(lock_timeout=0), engine=ThreadEngine(2))
        except Exception as error:
            result_error = error
    other.close()
    from tabledag import LockError

    assert isinstance(result_error, LockError)
    message = str(result_error)
    assert f"pid {pid}" in message and "tabledag" in message and "stage 's'" in message


def test_a_waiting_run_names_the_process_holding_the_file_lock(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tabledag import LockError, create_basic_config

    config = create_basic_config(f"duckdb:///{tmp_path}/db.duckdb", lock_timeout=0)
    path = config.store.locks().path
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom tabledag.locks import file_lock\n"
            f"with file_lock({path!r}):\n    print('held', flush=True)\n    sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with Flow("f") as flow, Stage("s"):
            t.pid_table()
        with pytest.raises(LockError) as caught:
            flow.run(config)
    finally:
        holder.communicate("")
    assert f"pid {holder.pid}" in str(caught.value)
