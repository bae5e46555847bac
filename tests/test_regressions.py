"""Regression tests for issue 13 ("What breaks first") and issue 14 ("Seams"), one or more per
item, through the public API and over both stores where the item concerns both.

Each test names its item (`13.6a`, `14.10`, ...) in its docstring. Error classes that came
with the restructure (`StoreConnectionError`, `UnsupportedTypeError`) are imported inside the
tests, after what an older tabledag got wrong is checked, so that this module imports on the
older code and each test fails there for its own reason.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
import subprocess
import sys
import textwrap
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import polars as pl
import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlglot import exp

from tabledag import (
    Config,
    FinalTaskState,
    Flow,
    Stage,
    TabledagError,
    TaskFailedError,
    create_basic_config,
)

from . import regression_tasks as rt
from . import tasks
from .conftest import StoreTarget, postgres_url
from .dbutil import physical_tables, qname, query, read_view, view_target
from .faults import recorded_points

COMPLETED = FinalTaskState.COMPLETED
CACHE_VALID = FinalTaskState.CACHE_VALID
FAILED = FinalTaskState.FAILED

POSTGRES = pytest.mark.parametrize(
    "store_kind", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
DUCKDB = pytest.mark.parametrize("store_kind", ["duckdb"], indirect=True)


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(rt.STATE, "data", 1)
    monkeypatch.setitem(rt.STATE, "primary_key", None)
    monkeypatch.setitem(rt.STATE, "indexes", None)
    monkeypatch.setitem(rt.STATE, "received", [])
    monkeypatch.setitem(rt.STATE, "value", "rich")
    yield


def with_query(url: str, **params: str) -> str:
    """`url` with query parameters added (or replaced)."""
    parts = urlsplit(url)
    query_ = {**dict(parse_qsl(parts.query)), **params}
    return urlunsplit((*parts[:3], urlencode(query_), parts.fragment))


def causes(error: BaseException | None) -> list[BaseException]:
    """`error` and its chain of causes / contexts."""
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def full_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


# -- 13.6 every failure ends in a Result or a TabledagError ------------------------------------


@POSTGRES
@pytest.mark.parametrize("later_stage", [False, True], ids=["last_stage", "stage_follows"])
def test_terminated_backend_ends_in_a_result_that_names_the_task(
    target: StoreTarget, later_stage: bool
) -> None:
    """13.6a: the store's connections are terminated by the server mid-run.

    The store URL carries an application_name of this test's own, so the task terminates only
    this run's connections (the session, its bulk connection and the lock connection), never
    those of tests running in parallel. The advisory unlocks then run on a dead connection, and
    with `stage_follows` the next stage finds its session dead: neither may replace the task's
    failure, which must be in the Result, or in the TabledagError that ends the run."""
    app = f"tabledag_t{uuid.uuid4().hex[:8]}"
    config = create_basic_config(with_query(target.url, application_name=app), **target.store_args)
    with Flow("f") as flow:
        with Stage("s"):
            first = rt.five_rows()
        with Stage("t"):
            cut = rt.cut_connections(first, postgres_url(), app)
        if later_stage:
            with Stage("u"):
                tasks.in_pyarrow.with_name("later")(first)

    try:
        result = flow.run(config=config)
    except TabledagError as error:  # allowed, if it still tells what failed first
        assert later_stage, full_text(error)  # a lost lock connection alone ends in a Result
        assert "'cut_connections'" in str(error), full_text(error)
        assert "terminating connection" in str(error), full_text(error)
    else:
        assert not later_stage
        assert rt.STATE["terminated"] >= 2  # at least the session and the lock connection
        assert "s" in result.committed  # a commit with a custom application_name works
        assert result.task_states[first] is COMPLETED
        assert result.task_states[cut] is FAILED
        failure = result.exception
        assert isinstance(failure, TaskFailedError)
        assert failure.task == "cut_connections"
        assert "terminating connection" in str(failure), full_text(failure)
    # The committed stage survives, and the next run (new connections) is fine.
    assert read_view(config, "s", "five_rows", order_by="id")[0] == (1, "a")
    again = flow.run(config=target.config())
    assert again.successful, again.exception
    assert again.task_states[first] is CACHE_VALID


def test_wrong_port_with_create_database_is_a_store_connection_error() -> None:
    """13.6b: a wrong port with `create_database_if_not_exists` raises `StoreConnectionError`
    (a TabledagError) whose message shows the URL with its password masked."""
    url = "postgresql://postgres:s3cr3t-pw@127.0.0.1:1/tabledag_never_created"
    config = create_basic_config(url, create_database_if_not_exists=True)
    with Flow("f") as flow, Stage("s"):
        rt.five_rows()
    with pytest.raises(TabledagError) as caught:
        flow.run(config=config)
    from tabledag.errors import StoreConnectionError

    assert isinstance(caught.value, StoreConnectionError), full_text(caught.value)
    message = str(caught.value)
    assert "s3cr3t-pw" not in full_text(caught.value)
    assert "postgresql://postgres:***@127.0.0.1:1/" in message
    assert isinstance(caught.value.__cause__, Exception)  # the driver's error is kept


@POSTGRES
def test_create_database_if_not_exists_creates_it(target: StoreTarget) -> None:
    """13.6b (the other side): with the right port the database is created and the run works.
    Not an old bug but one of the restructure: the run's lock connection, opened before any
    session, went to the database before it was created."""
    import psycopg2

    name = f"tabledag_t{uuid.uuid4().hex[:8]}"
    url = urlunsplit((*urlsplit(target.url)[:2], f"/{name}", *urlsplit(target.url)[3:]))
    config = create_basic_config(url, create_database_if_not_exists=True)
    with Flow("f") as flow, Stage("s"):
        rows = rt.five_rows()
    try:
        result = flow.run(config=config)
        assert result.successful, result.exception
        assert result.get(rows).num_rows == 5
        result.close()
    finally:
        con = psycopg2.connect(target.url)
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()


@pytest.mark.parametrize("where", ["directory", "trailing_slash", "under_a_file", "not_duckdb"])
def test_unusable_duckdb_path_is_a_tabledag_error(tmp_path: Path, where: str) -> None:
    """13.6c: a DuckDB path that is a directory, lies under a regular file, or is no database
    raises ConfigError or StoreConnectionError, never FileNotFoundError / IOException."""
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    (tmp_path / "adir").mkdir()
    path = {
        "directory": f"{tmp_path}/adir",
        "trailing_slash": f"{tmp_path}/newdir/",
        "under_a_file": f"{afile}/db.duckdb",
        "not_duckdb": str(afile),
    }[where]
    with Flow("f") as flow, Stage("s"):
        rt.five_rows()
    with pytest.raises(TabledagError) as caught:
        flow.run(config=create_basic_config(f"duckdb:///{path}"))
    from tabledag.errors import ConfigError, StoreConnectionError

    assert isinstance(caught.value, ConfigError | StoreConnectionError), full_text(caught.value)
    assert path.rstrip("/") in str(caught.value)
    assert afile.read_text() == "not a directory"  # nothing was written over it


@pytest.mark.parametrize(
    "task", [rt.panics_in_task, rt.panics_in_collect, rt.raises_base_exception]
)
def test_panic_in_a_task_is_a_failed_task(config: Config, task: Any) -> None:
    """13.6d: a polars panic (`pyo3_runtime.PanicException`, a BaseException) in a task or in
    the hook collecting its LazyFrame, or any other non-Exception BaseException, ends as FAILED
    in the Result, naming the task; independent tasks still complete."""
    with Flow("f") as flow, Stage("s"):
        bad = task()
        ok = rt.independent()
    result = flow.run(config=config)
    assert result.task_states[bad] is FAILED
    assert result.task_states[ok] is COMPLETED
    failure = result.exception
    assert isinstance(failure, TaskFailedError)
    assert failure.task == task.name
    assert repr(task.name) in str(failure)
    kinds = {type(e).__name__ for e in causes(failure)}
    if task is rt.raises_base_exception:
        assert "NotAnException" in kinds
        assert "raised from raises_base_exception" in str(failure)
    else:
        assert "PanicException" in kinds, kinds
        assert "capacity overflow" in str(failure)


# -- 13.7 secrets --------------------------------------------------------------------------------

SECRET = "hunter2-Q9x"


@POSTGRES
def test_password_in_a_query_parameter_never_shows(
    target: StoreTarget, caplog: pytest.LogCaptureFixture
) -> None:
    """13.7: `?password=...` stays out of errors, logs (DEBUG, print_sql=True) and reprs."""
    url = with_query(target.url, password=SECRET)
    config = create_basic_config(url, print_sql=True, **target.store_args)
    with Flow("f") as flow, Stage("s"):
        rows = rt.five_rows()
        lazy = tasks.in_str.with_name("lazy")(rows)
        boom = tasks.explode(rows)
    with caplog.at_level(logging.DEBUG):
        result = flow.run(config=config)
        assert result.task_states[lazy] is COMPLETED
        assert result.task_states[boom] is FAILED
        assert result.get(lazy, as_type=pa.Table).num_rows == 5

        bad = create_basic_config(
            with_query("postgresql://postgres@127.0.0.1:1/postgres", password=SECRET),
            **target.store_args,
        )
        with pytest.raises(TabledagError) as caught:
            flow.run(config=bad)
    assert "SQL:" in caplog.text  # print_sql logged the statements
    assert "password=***" in str(caught.value)
    texts = {
        "error": full_text(caught.value),
        "task error": full_text(result.exception),  # type: ignore[arg-type]
        "logs": caplog.text,
        "config": repr(config),
        "store": repr(config.store),
        "result": repr(result),
        "summary": result.summary(),
        "bad config": repr(bad),
        "bad store": repr(bad.store),
    }
    leaked = [name for name, text in texts.items() if SECRET in text]
    assert not leaked, {name: texts[name] for name in leaked}
    result.close()


# -- 13.8 types ----------------------------------------------------------------------------------


def _refused(config: Config, task: Any, table: str, column: str, type_text: str) -> None:
    with Flow("f") as flow, Stage("s"):
        ref = task()
    result = flow.run(config=config)
    assert result.task_states[ref] is FAILED
    failure = result.exception
    assert isinstance(failure, TaskFailedError)
    message = str(failure)
    for part in (repr(task.name), repr(table), repr(column), type_text):
        assert part in message, (part, message)
    assert physical_tables(config, "s") == set()
    from tabledag.errors import UnsupportedTypeError

    assert isinstance(failure.__cause__, UnsupportedTypeError), full_text(failure)


@DUCKDB
def test_decimal_beyond_38_digits_is_refused_before_writing_on_duckdb(config: Config) -> None:
    """13.8: decimal(40, 2) on DuckDB fails before anything is written, naming the task,
    the table, the column and the type."""
    _refused(config, rt.wide_decimal, "ledger", "amount", "decimal256(40, 2)")


@POSTGRES
def test_struct_column_is_refused_before_writing_on_postgres(config: Config) -> None:
    """13.8: a struct column on Postgres fails before anything is written, naming the task,
    the table, the column and the type."""
    _refused(config, rt.struct_column, "shapes", "point", "struct<x: int64, y: int64>")


@POSTGRES
def test_list_columns_round_trip_on_postgres(config: Config) -> None:
    """13.8: a list<int64> column (with empty lists, null lists and null items) is stored as
    a Postgres array and read back as pyarrow and polars."""
    with Flow("f") as flow:
        with Stage("s"):
            ref = rt.int_lists()
        with Stage("t"):
            copied = tasks.in_polars.with_name("copied")(ref)
    result = flow.run(config=config)
    assert result.successful, result.exception
    for task in (ref, copied):
        arrow = result.get(task, as_type=pa.Table).sort_by("id")
        assert pa.types.is_list(arrow.schema.field("xs").type)
        assert pa.types.is_int64(arrow.schema.field("xs").type.value_type)
        assert arrow.column("xs").to_pylist() == rt.INT_LISTS
        frame = result.get(task, as_type=pl.DataFrame).sort("id")
        assert frame.schema["xs"] == pl.List(pl.Int64)
        assert frame["xs"].to_list() == rt.INT_LISTS
    result.close()


# -- 13.9 lineage ---------------------------------------------------------------------------------


def test_tasks_row_of_an_unversioned_task_follows_its_latest_outputs(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """13.9: after two runs with different data, the `tasks` metadata row of an unversioned
    task names the table its stage shows now, not the first run's."""
    with Flow("f") as flow, Stage("s"):
        rt.changing_source()
    meta = config.store.metadata_schema
    for data in (1, 2):
        monkeypatch.setitem(rt.STATE, "data", data)
        assert flow.run(config=config).successful
        rows = query(
            config,
            f'SELECT "outputs", "task_key" FROM {qname(meta, "tasks")} '
            "WHERE \"stage\" = 's' AND \"task\" = 'changing_source'",
        )
        assert len(rows) == 1, rows
        key = json.loads(rows[0][0])["$table"]["key"]
        shown = view_target(config, "s", "changing_source")
        assert shown.endswith(key[:16]), (shown, key)
    assert [r[1] for r in read_view(config, "s", "changing_source")] == [2, 2, 2]


# -- 13.10 table options --------------------------------------------------------------------------


def _options(config: Config, stage: str, view: str) -> tuple[bool, set[tuple[str, ...]]]:
    """(has a primary key on `id`, column lists of its other indexes), from the catalogue."""
    store = config.store
    schema = store.data_schema_name(stage)
    physical = view_target(config, stage, view)
    if store.dialect.name == "duckdb":
        pk = query(
            config,
            "SELECT constraint_column_names FROM duckdb_constraints() "
            f"WHERE schema_name = '{schema}' AND table_name = '{physical}' "
            "AND constraint_type = 'PRIMARY KEY'",
        )
        rows = query(
            config,
            "SELECT sql FROM duckdb_indexes() "
            f"WHERE schema_name = '{schema}' AND table_name = '{physical}'",
        )
        columns = [re.search(r"\(([^()]*)\)\s*;?\s*$", sql).group(1) for (sql,) in rows]
        indexes = {tuple(c.strip().strip('"') for c in text.split(",")) for text in columns}
        return [list(r[0]) for r in pk] == [["id"]], indexes
    rows = query(
        config,
        "SELECT i.indisprimary, array_agg(a.attname ORDER BY k.n) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace ns ON ns.oid = c.relnamespace "
        "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
        f"WHERE ns.nspname = '{schema}' AND c.relname = '{physical}' "
        "GROUP BY i.indexrelid, i.indisprimary",
    )
    pk = [list(cols) for primary, cols in rows if primary]
    return pk == [["id"]], {tuple(cols) for primary, cols in rows if not primary}


def test_changing_table_options_on_unchanged_data_takes_effect(
    target: StoreTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """13.10: adding `primary_key` / `indexes` to a lazy task and to an unversioned eager task
    whose data did not change re-runs them, and the key and index exist afterwards; a run with
    the same options again leaves them cached. (Parquet files and Arrow tables hold no keys or
    indexes: there the options still rebuild the table, as part of its cache key.)"""
    config = target.config()
    with Flow("f") as flow:
        with Stage("s"):
            source = rt.five_rows()
            eager = rt.keyed_eager()
        with Stage("t"):
            lazy = rt.keyed_lazy(source)

    first = flow.run(config=config)
    assert first.successful, first.exception
    if target.constraints:
        assert _options(config, "t", "keyed_lazy") == (False, set())
        assert _options(config, "s", "keyed_eager") == (False, set())
    before = {"lazy": view_target(config, "t", "keyed_lazy")}
    before["eager"] = view_target(config, "s", "keyed_eager")

    monkeypatch.setitem(rt.STATE, "primary_key", "id")
    monkeypatch.setitem(rt.STATE, "indexes", [["name"], ["name", "id"]])
    second = flow.run(config=config)
    assert second.successful, second.exception
    assert second.task_states[lazy] is COMPLETED
    wanted = (True, {("name",), ("name", "id")})
    if target.constraints:
        assert _options(config, "t", "keyed_lazy") == wanted
        assert _options(config, "s", "keyed_eager") == wanted
    after = {"lazy": view_target(config, "t", "keyed_lazy")}
    after["eager"] = view_target(config, "s", "keyed_eager")
    assert after["lazy"] != before["lazy"] and after["eager"] != before["eager"]

    third = flow.run(config=config)
    assert third.successful, third.exception
    assert third.task_states[lazy] is CACHE_VALID
    assert third.task_states[eager] is COMPLETED  # unversioned: runs, and finds its table kept
    assert view_target(config, "t", "keyed_lazy") == after["lazy"]
    assert view_target(config, "s", "keyed_eager") == after["eager"]
    assert [r[0] for r in read_view(config, "t", "keyed_lazy", order_by="id")] == [1, 2, 3, 4, 5]


# -- 13.11 values ---------------------------------------------------------------------------------


def typed(value: Any) -> Any:
    """`value` spelt out with the type of every part, so that `==` checks the exact shape
    (a tuple is no list, a datetime no date, Decimal("1.10") no Decimal("1.1"))."""
    if isinstance(value, dict):
        return ("dict", sorted((repr(typed(k)), typed(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__qualname__, [typed(v) for v in value])
    if isinstance(value, set | frozenset):
        return (type(value).__qualname__, sorted(repr(typed(v)) for v in value))
    if hasattr(value, "__dataclass_fields__"):
        return (type(value).__qualname__, typed(vars(value)))
    return (type(value).__qualname__, repr(value))


def test_typed_tells_apart_what_equality_does_not() -> None:
    """The helper above must be able to fail."""
    import decimal

    assert typed({"a": (1, 2)}) != typed({"a": [1, 2]})
    assert typed(decimal.Decimal("1.10")) != typed(decimal.Decimal("1.1"))
    assert typed({1, 2}) != typed(frozenset({1, 2}))


@pytest.mark.parametrize("kind", sorted(rt.VALUES))
def test_plain_values_round_trip_exactly_from_a_cached_run(
    config: Config, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """13.11: a versioned task returning a plain value with a "$table" key and other
    "$"-keyed dicts (`json`: nothing but JSON; `rich`: also dates, decimals, tuples, sets,
    dataclasses, enums, ...) gets it back exactly from its cached run, and so does a
    downstream task receiving it as an argument."""
    monkeypatch.setitem(rt.STATE, "value", kind)
    with Flow("f") as flow:
        with Stage("s"):
            value = rt.json_value()
            beside = rt.json_beside_a_table()
        with Stage("t"):
            got = rt.receive(value)
            got_meta = rt.receive.with_name("receive_meta")(beside["meta"])
    expected = typed(rt.VALUES[kind]())

    for run in (1, 2):
        rt.STATE["received"].clear()
        result = flow.run(config=config)
        assert result.successful, result.exception
        assert result.task_states[value] is (COMPLETED if run == 1 else CACHE_VALID)
        assert result.task_states[beside] is (COMPLETED if run == 1 else CACHE_VALID)
        assert typed(result.get(value)) == expected
        assert typed(result.get(beside["meta"])) == expected
        assert result.get(beside["table"]).to_pylist() == [{"a": 1}, {"a": 2}]
        assert [typed(v) for v in rt.STATE["received"]] == [expected] * 2
        assert typed(result.get(got)) == expected
        assert typed(result.get(got_meta)) == expected
        result.close()


# -- 13.12 SQLAlchemy and % ----------------------------------------------------------------------


def test_sqlalchemy_percent_in_names_and_operators(config: Config) -> None:
    """13.12: an input table whose name contains `%`, an output named with `%`, the `%`
    (modulo) operator and a `%` in a string literal all reach the database unchanged."""
    with Flow("f") as flow:
        with Stage("raw"):
            source = rt.percent_source()
        with Stage("model"):
            out = rt.percent_query(source)
    result = flow.run(config=config)
    assert result.successful, result.exception
    rows = result.get(out, as_type=pa.Table).to_pylist()
    assert rows == [{"id": i, "odd": 1, "label": "50%"} for i in (1, 3, 5)]
    shown = read_view(config, "model", "pct%out", order_by="id")
    assert shown == [(1, 1, "50%"), (3, 1, "50%"), (5, 1, "50%")]
    assert "%%" not in result.sql(out)
    result.close()


def test_sqlalchemy_float_casts_with_a_precision_run(config: Config) -> None:
    """`sa.Float(53)` (pydiverse.transform's Float64) compiles as `FLOAT(53)`; sqlglot read it
    as `DOUBLE(53)`, which DuckDB refused. It is DOUBLE (and `FLOAT(10)` REAL) everywhere."""
    with Flow("f") as flow:
        with Stage("raw"):
            source = rt.five_rows()
        with Stage("model"):
            out = rt.float_casts(source)
    result = flow.run(config=config)
    assert result.successful, result.exception
    data = result.get(out, as_type=pa.Table)
    assert data.schema.field("wide").type == pa.float64()
    assert data.schema.field("narrow").type in (pa.float32(), pa.float64())
    assert sorted(data.column("wide").to_pylist()) == [1.0, 2.0, 3.0, 4.0, 5.0]
    result.close()


# -- 13.13 references inside containers -----------------------------------------------------------


def test_references_inside_dataclasses_and_containers_are_inputs(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """13.13: task outputs passed inside a dataclass, a namedtuple and dicts inside a list
    reach the task as tables of its input_type, and are dependencies: changing the upstream
    data re-runs the versioned consumers; unchanged data leaves them cached."""
    with Flow("f") as flow:
        with Stage("s"):
            changing = rt.changing_source()
            fixed = rt.five_rows()
        with Stage("t"):
            consumers = {
                "from_dataclass": rt.from_dataclass(rt.Inputs(changing, fixed, scale=2)),
                "from_namedtuple": rt.from_namedtuple(rt.Span(fixed, changing)),
                "from_nested": rt.from_nested([{"t": changing}, {"u": [fixed]}]),
            }
    for ref in consumers.values():
        assert {c.name for c in ref.call.upstream} == {"changing_source", "five_rows"}

    states: dict[str, list[FinalTaskState]] = {name: [] for name in consumers}
    for data in (1, 1, 2):
        monkeypatch.setitem(rt.STATE, "data", data)
        result = flow.run(config=config)
        assert result.successful, result.exception
        n = data + 1  # rows of changing_source
        wanted = {"from_dataclass": [n, 5, n, 5], "from_namedtuple": [5, n], "from_nested": [n, 5]}
        for name, ref in consumers.items():
            states[name].append(result.task_states[ref])
            assert result.get(ref).column("rows").to_pylist() == wanted[name]
        result.close()
    assert states == {name: [COMPLETED, CACHE_VALID, COMPLETED] for name in consumers}
    received = sorted(rt.STATE["received"], key=lambda r: r[0])
    assert received == sorted(
        [(name, [pa.Table] * len(wanted[name])) for name in consumers] * 2, key=lambda r: r[0]
    )


# -- 13.14 Result.sql for SQLAlchemy --------------------------------------------------------------


def test_result_sql_of_a_sqlalchemy_task_runs_as_printed(config: Config) -> None:
    """13.14: `result.sql(task)` of a SQLAlchemy join prints SQL with logical names only,
    which, run by another client against the stage views, gives the task's table."""
    with Flow("f") as flow:
        with Stage("raw"):
            a = rt.five_rows()
            b = rt.weights()
        with Stage("model"):
            joined = rt.sa_join(a, b)
    result = flow.run(config=config)
    assert result.successful, result.exception
    sql = result.sql(joined)
    assert "__data" not in sql, sql
    for physical in physical_tables(config, "raw"):
        assert physical not in sql, sql
    expected = [tuple(r.values()) for r in result.get(joined, as_type=pa.Table).to_pylist()]
    assert expected == [(2, "b", 0.5), (3, "c", 1.5)]
    assert query(config, sql) == expected
    result.close()


# -- 13.16 in-memory and relative DuckDB URLs ---------------------------------------------------


def test_duckdb_url_with_a_host_part_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """13.16: `duckdb://relative.duckdb` is refused when the configuration is read, saying
    what to write instead, and no database appears anywhere."""
    from tabledag.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tabledag.yaml").write_text(
        "instances:\n  __any__:\n    table_store:\n      class: tabledag.SQLTableStore\n"
        "      args: {url: 'duckdb://relative.duckdb'}\n"
    )
    with pytest.raises(ConfigError, match=r"duckdb:///relative\.duckdb") as caught:
        Config.load().get()
    assert "tabledag.yaml" in str(caught.value)

    with Flow("f") as flow, Stage("s"):
        rt.five_rows()
    with pytest.raises(ConfigError, match=r"duckdb:///relative\.duckdb"):
        flow.run(config=create_basic_config("duckdb://relative.duckdb"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tabledag.yaml"]


@pytest.mark.parametrize("url", ["duckdb://", "duckdb:///:memory:"])
def test_in_memory_duckdb_works_within_one_process(url: str) -> None:
    """13.16: an in-memory DuckDB store keeps its tables for the store's life: a flow runs,
    `result.get` returns the data, and a second run finds everything cached."""
    config = create_basic_config(url)
    with Flow("f") as flow:
        with Stage("s"):
            rows = rt.five_rows()
        with Stage("t"):
            lazy = tasks.in_str.with_name("lazy")(rows)
    try:
        result = flow.run(config=config)
        assert result.successful, result.exception
        assert result.get(lazy, as_type=pa.Table).num_rows == 5
        assert result.get(rows, as_type=pl.DataFrame)["name"].to_list() == list("abcde")
        result.close()
        again = flow.run(config=config)
        assert again.task_states[rows] is CACHE_VALID
        assert again.task_states[lazy] is CACHE_VALID
        assert again.get(lazy, as_type=pa.Table).num_rows == 5
        again.close()
    finally:
        config.store.close()


# -- 13.17 a missing driver ----------------------------------------------------------------------

_WITHOUT_PSYCOPG = """
import importlib.abc, json, sys

class Missing(importlib.abc.MetaPathFinder):
    BLOCKED = {"psycopg", "psycopg2", "psycopg_binary", "psycopg_c"}

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())

import pyarrow as pa
from tabledag import Flow, Stage, TabledagError, create_basic_config, materialize

@materialize(version="1")
def rows():
    return pa.table({"a": [1]})

with Flow("f") as flow, Stage("s"):
    rows()
try:
    flow.run(config=create_basic_config(sys.argv[1], schema_prefix=sys.argv[2]))
except BaseException as error:
    print(json.dumps({"type": type(error).__name__, "message": str(error),
                      "tabledag": isinstance(error, TabledagError)}))
else:
    print(json.dumps({"type": None}))
"""


def test_missing_postgres_driver_names_the_extra(tmp_path: Path) -> None:
    """13.17: with psycopg and psycopg2 not importable, running a flow on Postgres says which
    extra to install."""
    script = tmp_path / "no_driver.py"
    script.write_text(textwrap.dedent(_WITHOUT_PSYCOPG))
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    done = subprocess.run(
        [sys.executable, str(script), postgres_url(), prefix],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["type"] == "StoreConnectionError", outcome
    assert outcome["tabledag"]
    assert "pip install 'tabledag[postgres]'" in outcome["message"]


# -- 13.24 cached SQLAlchemy reruns read no column types ------------------------------------------


CATALOGUE_COLUMN_QUERIES = (
    "information_schema.columns",
    "pg_attribute",
    "duckdb_columns",
    "pragma_table_info",
)
"""What a query that asks the catalogue for column types contains, on each dialect."""


def counting_config(target: StoreTarget, record: Path) -> Config:
    """A config whose store writes every statement its sessions send to `record`."""
    return target.faulty(record=str(record))


def test_cached_sqlalchemy_rerun_reads_no_column_types(target: StoreTarget, tmp_path: Path) -> None:
    """13.24: a cached rerun of SQLAlchemy tasks, in a new store object, serves input schemas
    from the metadata: no `information_schema.columns` / `pg_attribute` query names a stage
    (the one setup check of the metadata tables aside)."""
    with Flow("f") as flow:
        with Stage("raw"):
            a = rt.five_rows()
            b = rt.weights()
        with Stage("model"):
            first = rt.sa_first(a)
            second = rt.sa_second(first, b)

    runs = []
    for n in (1, 2):
        record = tmp_path / f"run{n}.jsonl"
        config = counting_config(target, record)
        result = flow.run(config=config)
        assert result.successful, result.exception
        points = recorded_points(record) if record.exists() else []
        runs.append((config, result, [(phase, sql) for phase, _, sql in points]))
    config, result, statements = runs[1]
    assert result.task_states[first] is CACHE_VALID
    assert result.task_states[second] is CACHE_VALID
    assert result.get(second, as_type=pa.Table).num_rows == 2
    assert len(statements) >= 3, statements  # the seam saw the run's statements
    meta = config.store.metadata_schema
    unquoted = [sql.lower().replace('"', "") for _, sql in statements]
    reads = [s for s in unquoted if any(w in s for w in CATALOGUE_COLUMN_QUERIES)]
    if target.kind != "memory":  # (one store object: its second run checks no setup again)
        assert any(meta in s for s in reads), reads  # the filter sees the setup check: it works
    assert [s for s in reads if meta not in s] == []
    for _, result, _ in runs:
        result.close()


# -- 14.3 identity survives pickling --------------------------------------------------------------


@DUCKDB
def test_pickled_task_references_are_found_in_the_result(config: Config) -> None:
    """14.3: a TaskRef, a TaskRef into a task's outputs, and a TaskCall that went through
    pickle are found in `result.task_states` and by `result.get`."""
    with Flow("f") as flow, Stage("s"):
        rows = rt.five_rows()
        left, right = tasks.pair()
    result = flow.run(config=config)
    assert result.successful, result.exception
    for ref in (rows, left, right, rows.call):
        copy = pickle.loads(pickle.dumps(ref))
        assert copy is not ref
        assert result.task_states[copy] is COMPLETED
        assert result.get(copy) == result.get(ref)
    assert pickle.loads(pickle.dumps(left)).call is not left.call
    assert result.get(pickle.loads(pickle.dumps(right))).to_pylist() == [{"b": 2}]
    result.close()


# -- 14.10 dead parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(rt.LIMIT_TYPES))
def test_limit_applies_to_sql_inputs(config: Config, kind: str) -> None:
    """14.10: `limit` gives the first rows for sqlglot, SQL-text and SQLAlchemy inputs."""
    with Flow("f") as flow, Stage("s"):
        rows = rt.five_rows()
    result = flow.run(config=config)
    assert result.successful, result.exception
    ref = result.outputs[rows.call]
    store = config.store
    with store.session() as session:
        limited = session.retrieve(ref, ref.stage, rt.LIMIT_TYPES[kind], limit=2)
        whole = session.retrieve(ref, ref.stage, rt.LIMIT_TYPES[kind])
        if kind == "sqlglot":
            sql = [session.render(exp.select("*").from_(t)) for t in (limited, whole)]
        elif kind == "str":
            sql = [f"SELECT * FROM {t}" for t in (limited, whole)]
        else:
            dialect = postgresql.dialect(paramstyle="named")
            sql = [
                str(sa.select(t).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
                for t in (limited, whole)
            ]
    assert len(query(config, sql[0])) == 2, sql[0]
    assert len(query(config, sql[1])) == 5, sql[1]
    result.close()


def test_flow_run_refuses_unknown_keyword_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """14.10: an unknown keyword argument of `Flow.run` is a TypeError at the call, before a
    configuration is looked for (here there is none: that would be a ConfigError)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TABLEDAG_CONFIG", raising=False)
    with Flow("f") as flow, Stage("s"):
        rt.five_rows()
    with pytest.raises(TypeError, match=r"run\(\) got an unexpected keyword argument 'dry_run'"):
        flow.run(dry_run=True)
    with pytest.raises(TypeError, match="dry_run"):
        flow.run(config=create_basic_config(f"duckdb:///{tmp_path}/x.duckdb"), dry_run=True)
    assert not (tmp_path / "x.duckdb").exists()
