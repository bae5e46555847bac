"""pydiverse.transform tables as task outputs and inputs, on every store.

pydiverse-transform needs polars < 2, pandas < 3 and pyarrow < 23, so it is not in the `test`
extra (which tests the newest majors): these tests run in `nox -s tests_compat` (and the compat
step of .ci/run) and skip elsewhere.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from typing import Any

import pyarrow as pa
import pytest

from tabledag import (
    Config,
    DuplicateNameError,
    FinalTaskState,
    Flow,
    HookError,
    Stage,
    TaskFailedError,
    materialize,
)

from . import tasks
from .conftest import StoreTarget, required
from .dbutil import read_view

pdt = (
    importlib.import_module("pydiverse.transform")  # a missing library fails where it is required
    if required("transform")
    else pytest.importorskip(
        "pydiverse.transform",
        reason="pydiverse-transform is not installed: its hook tests run in `nox -s tests_compat`",
    )
)
import polars as pl  # noqa: E402  # after the skip
from pydiverse.transform import (  # noqa: E402
    Polars,
    SqlAlchemy,
    backend,
    export,
    filter,  # pdt's verb (shadows the builtin here)
    inner_join,
    mutate,
    select,
)

EXPECTED = tasks.canonical_rows(tasks.base_data())


def backend_name(table: Any) -> str:
    name = backend(table)
    return str(getattr(name, "backend_name", name))


def rows(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, pdt.Table):
        value = value >> export(Polars())
    return tasks.canonical_rows(value)


# -- tasks -----------------------------------------------------------------------------------------


@materialize(version="1")
def out_pdt_frame() -> Any:
    return pdt.Table(pl.from_arrow(tasks.base_data()), name="frame")


@materialize(input_type=Polars)
def pdt_polars_filter(t: Any) -> Any:
    assert isinstance(t, pdt.Table) and backend_name(t) == "polars", backend_name(t)
    return t >> filter(t.id >= 1)


@materialize(lazy=True, input_type=SqlAlchemy)
def pdt_sql_filter(t: Any, threshold: int = 1) -> Any:
    assert isinstance(t, pdt.Table) and backend_name(t) != "polars", backend_name(t)
    # a computed column dropped again: the query is more than a plain SELECT *
    return t >> mutate(double=t.x * 2) >> filter(t.id >= threshold) >> select(t.id, t.name, t.x)


@materialize(lazy=True, input_type=SqlAlchemy)
def pdt_sql_join(left: Any, right: Any) -> Any:
    """Two inputs in one query (their engines must agree for pdt to join them)."""
    joined = left >> inner_join(right, left.id == right.id)
    return joined >> select(left.id, left.name, left.x)


@materialize(input_type=Polars)
def pdt_polars_rows(t: Any) -> Any:
    assert isinstance(t, pdt.Table) and backend_name(t) == "polars", backend_name(t)
    return t


@materialize(lazy=True, input_type=SqlAlchemy)
def pdt_sql_rows(t: Any) -> Any:
    assert isinstance(t, pdt.Table) and backend_name(t) != "polars", backend_name(t)
    return t


@materialize(input_type=SqlAlchemy)
def pdt_sql_export(t: Any) -> Any:
    return t >> export(Polars())  # computing in Python on a SQL input: refused, clearly


OUTPUTS = ("frame", "from_polars_input", "from_sql_input", "from_sql_join")
CONSUMERS = {
    "pdt_polars": pdt_polars_rows,
    "pdt_sql": pdt_sql_rows,
    "pyarrow": tasks.in_pyarrow,
    "sql": tasks.in_str,
}


class TransformFlow:
    def __init__(self, config: Config) -> None:
        self.config = config
        with Flow("transform") as flow:
            with Stage("src"):
                source = tasks.src()
            with Stage("out"):
                self.out = {
                    "frame": out_pdt_frame(),
                    "from_polars_input": pdt_polars_filter(source),
                    "from_sql_input": pdt_sql_filter(source),
                }
                self.out["from_sql_join"] = pdt_sql_join(source, self.out["frame"])
            with Stage("inp"):
                self.inp = {
                    (out, kind): task.with_name(f"{kind}_from_{out}")(ref)
                    for out, ref in self.out.items()
                    for kind, task in CONSUMERS.items()
                }
        self.flow = flow
        self.result = flow.run(config=config)


@pytest.fixture(scope="module")
def transform(module_target: StoreTarget) -> TransformFlow:
    return TransformFlow(module_target.config())


def test_transform_flow_succeeds(transform: TransformFlow) -> None:
    assert transform.result.successful, repr(transform.result.exception)


@pytest.mark.parametrize("out", OUTPUTS)
def test_pdt_output_is_written(transform: TransformFlow, out: str) -> None:
    ref = transform.out[out]
    assert rows(transform.result.get(ref, as_type=pa.Table)) == EXPECTED
    shown = read_view(transform.config, "out", ref.call.name, order_by="id")
    assert [r[0] for r in shown] == [1, 2, 3]
    assert [r[1] for r in shown] == ["a", None, "c"]


@pytest.mark.parametrize("kind", list(CONSUMERS))
@pytest.mark.parametrize("out", OUTPUTS)
def test_pdt_output_read_back_as_input_type(transform: TransformFlow, out: str, kind: str) -> None:
    assert rows(transform.result.get(transform.inp[(out, kind)], as_type=pa.Table)) == EXPECTED


def test_pdt_sql_output_shows_its_query_with_logical_names(transform: TransformFlow) -> None:
    sql = transform.result.sql(transform.out["from_sql_input"])
    assert ">= 1" in sql, sql
    assert "src" in sql and "__data" not in sql, sql  # the stage view, not the physical table
    joined = transform.result.sql(transform.out["from_sql_join"])
    assert "JOIN" in joined.upper() and "out_pdt_frame" in joined, joined


@pytest.mark.parametrize("as_type", [Polars, SqlAlchemy])
def test_result_get_as_pdt_table(transform: TransformFlow, as_type: Any) -> None:
    value = transform.result.get(transform.out["frame"], as_type=as_type)
    assert isinstance(value, pdt.Table)
    assert (backend_name(value) == "polars") is (as_type is Polars)
    if as_type is Polars:
        assert rows(value) == EXPECTED
    else:
        # A SqlAlchemy table reads no rows here: it compiles to SQL over the stored table.
        sql = value >> pdt.build_query()
        assert "SELECT" in sql.upper() and "__data" in sql.lower(), sql


def test_pdt_sql_output_is_written_as_a_query_and_kept(
    target: StoreTarget, caplog: pytest.LogCaptureFixture
) -> None:
    config = target.config(print_sql=True)

    def run() -> tuple[FinalTaskState, list[str]]:
        with Flow("lazy_pdt") as flow:
            with Stage("src"):
                source = tasks.src()
            with Stage("out"):
                ref = pdt_sql_filter(source, 2)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="tabledag.store"):
            result = flow.run(config=config)
        assert result.successful, repr(result.exception)
        assert [r["id"] for r in rows(result.get(ref, as_type=pa.Table))] == [2, 3]
        statements = [r.getMessage() for r in caplog.records if r.name == "tabledag.store"]
        return result.states[ref.call], statements

    state, statements = run()
    assert state is FinalTaskState.COMPLETED
    # The database ran the pdt query (CREATE TABLE AS, COPY to parquet, or DuckDB over Arrow
    # in memory): written as Arrow, the filter would have run in Python and no SQL shows it.
    assert any(">= 2" in s for s in statements), statements
    state, statements = run()
    assert state is FinalTaskState.CACHE_VALID
    # nothing ran the query again (the run record in the metadata quotes the task's SQL)
    on_data = [s for s in statements if "tabledag_metadata" not in s]
    assert not any(">= 2" in s for s in on_data), on_data


def test_pdt_sql_input_refuses_to_compute_in_python(config: Config) -> None:
    if config.store_object.sqlalchemy_engine() is not None:
        # pipedag's behaviour: where SQLAlchemy reaches the database, the input has a live
        # engine and `export` runs in pydiverse.transform itself (not tabledag's to refuse)
        pytest.skip("the store has a live SQLAlchemy engine: pdt exports through it")
    with Flow("export") as flow:
        with Stage("src"):
            source = tasks.src()
        with Stage("out"):
            pdt_sql_export(source)
    result = flow.run(config=config)
    assert not result.successful
    error = result.exception
    assert isinstance(error, TaskFailedError), repr(error)
    text = str(error) + repr(error.__cause__)
    assert "pdt_sql_export" in text
    assert isinstance(error.__cause__, HookError), repr(error.__cause__)
    assert "input_type=pdt.Polars" in str(error.__cause__)


@materialize(lazy=True, input_type=SqlAlchemy)
def pdt_aliased(t: Any) -> Any:
    return t >> filter(t.id >= 2) >> pdt.alias("named_by_alias")


@materialize(input_type=Polars)
def pdt_passthrough(t: Any) -> Any:
    return t >> filter(t.id >= 1)  # unaliased: named after the task (or, as pipedag, its input)


@materialize(lazy=True, input_type=SqlAlchemy)
def pdt_second_filter(t: Any) -> Any:
    return t >> filter(t.id >= 3)


@pytest.mark.parametrize(("carried", "plain_name"), [(False, "pdt_passthrough"), (True, "src")])
def test_a_pdt_alias_names_the_table(config: Config, carried: bool, plain_name: str) -> None:
    """An alias names a pdt output; an unaliased one is named after its task, or, with
    `carried_table_names` (pipedag's `auto_table` listing `pydiverse.transform.Table`),
    after the table it derives from, as pipedag names it."""
    config = dataclasses.replace(config, carried_table_names=carried)
    with Flow("alias") as flow:
        with Stage("src"):
            source = tasks.src()
        with Stage("out"):
            aliased = pdt_aliased(source)
            plain = pdt_passthrough(source)
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    assert result.outputs[aliased.call].name == "named_by_alias"
    assert result.outputs[plain.call].name == plain_name
    assert [r["id"] for r in rows(result.get(aliased, as_type=pa.Table))] == [2, 3]


def test_two_bare_pdt_outputs_carrying_one_name_in_a_stage_collide(config: Config) -> None:
    config = dataclasses.replace(config, carried_table_names=True)
    with Flow("collide") as flow:
        with Stage("src"):
            source = tasks.src()
        with Stage("out"):
            pdt_passthrough(source)
            pdt_second_filter(source)
    result = flow.run(config=config)
    assert not result.successful
    errors = [result.exception, result.exception.__cause__]
    assert any(isinstance(e, DuplicateNameError) for e in errors), repr(errors)
    text = " ".join(str(e) for e in errors)
    assert "'src'" in text and "Table(obj, name=...)" in text, text


@materialize(lazy=True, input_type=SqlAlchemy)
def pdt_modulo(t: Any) -> Any:
    return t >> filter(t.id % 2 == 1) >> pdt.alias("odd")


def test_a_pdt_query_with_a_percent_sign_runs(config: Config) -> None:
    # compiled for psycopg2 (a live engine on Postgres) pdt writes `%` as `%%`
    with Flow("modulo") as flow:
        with Stage("src"):
            source = tasks.src()
        with Stage("out"):
            odd = pdt_modulo(source)
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    assert [r["id"] for r in rows(result.get(odd, as_type=pa.Table))] == [1, 3]
