"""Annotation-driven validation with dataframely: parameter annotations read, cast and check a
task's inputs, return annotations check its outputs; a failure names the task, the table and
each failed rule with its row count; `warn` logs and goes on, `off` checks nothing; an
annotation tabledag recognises but cannot honour is a DeclarationError, never ignored.

On DuckDB and PostgreSQL (the checks run on polars frames, so every store behaves alike; the
stores differ in the column types a cast output gets, which the tests read from the catalogue).
No `from __future__ import annotations`: the tasks declared inside tests need real annotations.
"""

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

from tabledag import (
    Config,
    DeclarationError,
    FinalTaskState,
    Flow,
    Stage,
    TableValidationError,
    TaskFailedError,
    materialize,
)

dy = pytest.importorskip("dataframely")

from . import validation_tasks as vt  # noqa: E402  (after the importorskip)
from .conftest import StoreTarget, _make_target, _release  # noqa: E402
from .dbutil import query, read_view  # noqa: E402

SQL_STORES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=SQL_STORES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    target = _make_target(request.param, tmp_path)
    yield target
    _release(target)


def config_for(target: StoreTarget, validation: str = "fail") -> Config:
    return dataclasses.replace(target.config(), validation=validation)


def column_type(config: Config, stage: str, table: str, column: str) -> str:
    schema = config.store.schema_name(stage)
    rows = query(
        config,
        "SELECT data_type FROM information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = '{table}' AND column_name = '{column}'",
    )
    assert len(rows) == 1, rows
    return str(rows[0][0]).lower()


def cause(result: Any, call: Any) -> BaseException:
    assert result.states[call] is FinalTaskState.FAILED
    failures = _chain(result.exception)
    assert isinstance(failures[0], TaskFailedError)
    assert failures[0].task == call.name
    return failures[1]


def _chain(error: BaseException | None) -> list[BaseException]:
    out = []
    while error is not None:
        out.append(error)
        error = error.__cause__
    return out


# -- inputs ------------------------------------------------------------------------------------


def test_each_input_annotation_reads_casts_and_passes(db: StoreTarget) -> None:
    config = config_for(db)
    with Flow("inputs") as flow:
        with Stage("src"):
            people = vt.people(False)
        with Stage("use"):
            vt.read_lazy(people)
            vt.read_eager(people)
            vt.read_bare(people)
            vt.read_bare_lazy(people)
            vt.read_mixed(people, people)
            vt.read_list([people, people])
            vt.read_many(people, people, people)
    result = flow.run(config=config)
    assert result.successful, result.exception
    assert column_type(config, "src", "people", "age") == "bigint"  # stored as written
    expected = {
        "read_lazy": (5, "Int16", "LazyFrame"),
        "read_eager": (5, "Int16", "DataFrame"),
        "read_bare": (5, "Int16", "DataFrame"),
        "read_bare_lazy": (5, "Int16", "LazyFrame"),
        "read_mixed": (5, "Int16", "LazyFrame"),
        "read_list": (10, "Int16", "list"),
        "read_many": (15, "Int16", "varargs"),
    }
    for table, row in expected.items():
        assert read_view(config, "use", table) == [row], table


@pytest.mark.parametrize(
    ("task", "label"),
    [
        (vt.read_lazy, "dy.LazyFrame[Person]"),
        (vt.read_eager, "dy.DataFrame[Person]"),
        (vt.read_bare, "Person"),
        (vt.read_bare_lazy, "Person"),
    ],
)
def test_an_invalid_input_fails_the_task_naming_table_rules_and_counts(
    db: StoreTarget, task: Any, label: str
) -> None:
    with Flow("inputs") as flow:
        with Stage("src"):
            people = vt.people(True)
        with Stage("use"):
            call = task(people)
    result = flow.run(config=config_for(db))
    error = cause(result, call.call)
    assert isinstance(error, TableValidationError)
    text = str(error)
    assert f"task {task.name!r} in stage 'use'" in text
    assert "input table of parameter 'people'" in text
    assert f"fails validation with {label}" in text
    assert "table src.people: 3 of 5 rows invalid" in text
    assert "age|min: 2, name|nullability: 1" in text
    assert error.failures == {"src.people": {"age|min": 2, "name|nullability": 1}}
    assert "use" not in result.committed
    assert str(result.exception).startswith(f"task {task.name!r} in stage 'use' failed")


def test_a_missing_column_is_named(db: StoreTarget) -> None:
    with Flow("inputs") as flow:
        with Stage("src"):
            thin = vt.missing_column()
        with Stage("use"):
            call = vt.read_lazy(thin)
    result = flow.run(config=config_for(db))
    error = cause(result, call.call)
    assert isinstance(error, TableValidationError)
    assert "table src.missing_column: 1 missing columns for schema 'Person': 'name'" in str(error)


def test_warn_mode_logs_the_failure_and_the_task_gets_every_row(
    db: StoreTarget, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(db, "warn")
    with Flow("inputs") as flow:
        with Stage("src"):
            people = vt.people(True)
        with Stage("use"):
            vt.read_lazy(people)
            vt.read_eager(people)
    with caplog.at_level(logging.WARNING, logger="tabledag.validation"):
        result = flow.run(config=config)
    assert result.successful, result.exception
    assert read_view(config, "use", "read_lazy") == [(5, "Int16", "LazyFrame")]
    assert read_view(config, "use", "read_eager") == [(5, "Int16", "DataFrame")]
    warnings = [r.getMessage() for r in caplog.records if r.name == "tabledag.validation"]
    assert len(warnings) == 2
    for task, message in zip(["read_eager", "read_lazy"], sorted(warnings), strict=True):
        assert f"task {task!r}" in message
        assert "table src.people: 3 of 5 rows invalid" in message
        assert "age|min: 2, name|nullability: 1" in message
        assert "the task goes on with every row" in message


def test_off_mode_checks_nothing_and_casts_nothing(
    db: StoreTarget, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(db, "off")
    with Flow("inputs") as flow:
        with Stage("src"):
            people = vt.people(True)
        with Stage("use"):
            vt.read_lazy(people)
            vt.make_people(True)
    with caplog.at_level(logging.DEBUG, logger="tabledag.validation"):
        result = flow.run(config=config)
    assert result.successful, result.exception
    # still read as the annotation's frame type, but neither cast nor checked
    assert read_view(config, "use", "read_lazy") == [(5, "Int64", "LazyFrame")]
    assert column_type(config, "use", "make_people", "age") == "bigint"
    assert len(read_view(config, "use", "make_people")) == 5
    assert not [r for r in caplog.records if r.name == "tabledag.validation"]


# -- outputs -----------------------------------------------------------------------------------


def test_return_annotations_validate_and_cast_outputs(db: StoreTarget) -> None:
    config = config_for(db)
    with Flow("outputs") as flow, Stage("out"):
        vt.make_people(False)
        vt.make_named_people(False)
        vt.make_pair(False)
    result = flow.run(config=config)
    assert result.successful, result.exception
    for table in ("make_people", "named_people", "make_pair_0"):
        assert column_type(config, "out", table, "age") == "smallint", table
        assert len(read_view(config, "out", table)) == 5
    assert column_type(config, "out", "make_pair_1", "age") == "bigint"  # not annotated


@pytest.mark.parametrize(
    ("task", "table", "label"),
    [
        (vt.make_people, "make_people", "dy.DataFrame[Person]"),
        (vt.make_named_people, "named_people", "Person"),
        (vt.make_pair, "make_pair_0", "dy.DataFrame[Person]"),
    ],
)
def test_an_invalid_output_fails_its_task(
    db: StoreTarget, task: Any, table: str, label: str
) -> None:
    with Flow("outputs") as flow, Stage("out"):
        call = task(True)
    result = flow.run(config=config_for(db))
    ref = call[0] if task.nout > 1 else call
    error = cause(result, ref.call)
    assert isinstance(error, TableValidationError)
    text = str(error)
    assert f"task {task.name!r} in stage 'out': output table fails validation with {label}" in text
    assert f"table out.{table}: 3 of 5 rows invalid" in text
    assert error.failures == {f"out.{table}": {"age|min": 2, "name|nullability": 1}}
    assert "out" not in result.committed


def test_other_input_types_are_checked_on_a_polars_copy_queries_as_written(
    db: StoreTarget,
) -> None:
    config = config_for(db)
    with Flow("other") as flow:
        with Stage("src"):
            people = vt.people(False)
        with Stage("use"):
            vt.ibis_people(people, 0)
            vt.pandas_people(people, 0)
    result = flow.run(config=config)
    assert result.successful, result.exception
    assert column_type(config, "use", "ibis_people", "age") == "bigint"  # a query: uncast
    assert column_type(config, "use", "pandas_people", "age") == "smallint"  # a frame: cast
    with Flow("other_bad") as flow:
        with Stage("src"):
            bad = vt.people(True)
        with Stage("use"):
            pandas_call = vt.pandas_people(bad, 0)
    result = flow.run(config=config)
    error = cause(result, pandas_call.call)
    assert isinstance(error, TableValidationError)
    assert "input table of parameter 'people' fails validation with Person" in str(error)
    assert error.failures == {"src.people": {"age|min": 2, "name|nullability": 1}}
    # a lazy task's query input is not read (as on pipedag): its result is checked as written
    with Flow("query_bad") as flow:
        with Stage("src"):
            bad = vt.people(True)
        with Stage("use"):
            query_call = vt.ibis_people(bad, 0)
    result = flow.run(config=config)
    error = cause(result, query_call.call)
    assert isinstance(error, TableValidationError)
    assert "output table (checked as written, uncast) fails validation" in str(error)
    assert error.failures == {"use.ibis_people": {"age|min": 2, "name|nullability": 1}}


@pytest.mark.parametrize("task", [vt.ibis_people, vt.pandas_people])
def test_query_and_pandas_outputs_are_checked(db: StoreTarget, task: Any) -> None:
    with Flow("other") as flow:
        with Stage("src"):
            people = vt.people(False)
        with Stage("use"):
            call = task(people, 50)  # ages 30..74 shifted by -50: two negative
    result = flow.run(config=config_for(db))
    error = cause(result, call.call)
    assert isinstance(error, TableValidationError)
    what = "output table (checked as written, uncast)" if task.lazy else "output table"
    assert f"task {task.name!r} in stage 'use': {what} fails validation with Person" in str(error)
    assert error.failures == {f"use.{task.name}": {"age|min": 2}}
    assert "use" not in result.committed


# -- collections -------------------------------------------------------------------------------


def test_a_collection_input_is_validated_as_a_whole(db: StoreTarget) -> None:
    config = config_for(db)
    with Flow("shop") as flow:
        with Stage("src"):
            good = vt.shop_tables(False)
            bad = vt.shop_tables.with_name("bad_shop")(True)
        with Stage("use"):
            vt.read_shop(good)
        with Stage("use_bad"):
            failing = vt.read_shop.with_name("read_bad_shop")(bad)
    result = flow.run(config=config)
    assert read_view(config, "use", "read_shop") == [(3, 4, "Int16", "Shop")]
    error = cause(result, failing.call)
    assert isinstance(error, TableValidationError)
    text = str(error)
    assert "input collection of parameter 'shop' fails validation with Shop" in text
    assert "table src.bad_shop_people: 1 of 3 rows invalid; failed rules (rows): " in text
    assert "table src.bad_shop_orders: 1 of 3 rows invalid" in text
    assert error.failures == {
        "src.bad_shop_people": {"ordered_something": 1},
        "src.bad_shop_orders": {"amount|min": 1},
    }


def test_a_returned_collection_is_validated_and_stored_member_by_member(db: StoreTarget) -> None:
    config = config_for(db)
    with Flow("shop") as flow:
        with Stage("out"):
            shop = vt.make_shop(False)
        with Stage("use"):
            vt.read_shop(shop)
        with Stage("bad"):
            failing = vt.make_shop.with_name("bad_shop")(True)
    result = flow.run(config=config)
    assert column_type(config, "out", "make_shop_people", "age") == "smallint"
    assert len(read_view(config, "out", "make_shop_orders")) == 4
    assert read_view(config, "use", "read_shop") == [(3, 4, "Int16", "Shop")]
    error = cause(result, failing.call)
    assert isinstance(error, TableValidationError)
    assert "output collection fails validation with Shop" in str(error)
    assert error.failures == {
        "bad.bad_shop_people": {"ordered_something": 1},
        "bad.bad_shop_orders": {"amount|min": 1},
    }


# -- what cannot be honoured -------------------------------------------------------------------


def _declare(task: Any, *args: Any) -> None:
    with Flow("declare"), Stage("src"):
        people = vt.people(False)
        task(*args) if args else task(people)


def test_wrong_kinds_of_annotation_are_declaration_errors() -> None:
    @materialize
    def no_schema(people: dy.LazyFrame) -> None: ...

    @materialize(input_type=pd.DataFrame)
    def pandas_lazy(people: dy.LazyFrame[vt.Person]) -> None: ...

    @materialize(input_type=pl.DataFrame)
    def eager_lazy(people: dy.LazyFrame[vt.Person]) -> None: ...

    @materialize
    def collection_in_frame(people: dy.DataFrame[vt.Shop]) -> None: ...

    @materialize
    def listed_collection(shops: list[vt.Shop]) -> None: ...

    @materialize
    def base_schema(people: dy.Schema) -> None: ...

    @materialize
    def unresolved(people: "dy.LazyFrame[NoSuchSchema]") -> None: ...  # noqa: F821

    @materialize
    def two_kinds(pair: tuple[dy.LazyFrame[vt.Person], dy.DataFrame[vt.Order]]) -> None: ...

    cases = {
        no_schema: "parameter 'people' is annotated dataframely._typing.LazyFrame without a schema",
        pandas_lazy: "the tables arrive as polars.LazyFrame, but the task declares input_type=",
        eager_lazy: "is annotated dy.LazyFrame[Person], the tables arrive as polars.LazyFrame",
        collection_in_frame: "where S is a dy.Schema subclass",
        listed_collection: "nests the collection Shop",
        base_schema: "dataframely object Schema, which tabledag cannot validate tables with",
        unresolved: "'dy.LazyFrame[NoSuchSchema]', which does not resolve (NameError",
        two_kinds: "a tuple of differently read tables",
    }
    for task, message in cases.items():
        with pytest.raises(DeclarationError) as caught:
            _declare(task)
        assert f"task {task.name!r}: " in str(caught.value), task
        assert message in str(caught.value), (task, str(caught.value))


def test_an_annotated_parameter_given_no_table_fails_clearly(db: StoreTarget) -> None:
    with Flow("inputs") as flow, Stage("use"):
        call = vt.read_lazy(5)
    result = flow.run(config=config_for(db))
    error = cause(result, call.call)
    assert isinstance(error, DeclarationError)
    assert "parameter 'people' is annotated dy.LazyFrame[Person], which needs table" in str(error)
    assert "receives int 5" in str(error)


def test_unrecognised_annotations_change_nothing(db: StoreTarget) -> None:
    """Plain polars / pandas annotations and unresolvable names unrelated to schemas are no
    validation: the task behaves as without them."""

    @materialize(input_type=pl.DataFrame)
    def plain(people: pl.DataFrame, n: "SomethingUndefined") -> pl.DataFrame:  # noqa: F821
        return people.select(pl.len().alias("n"))

    assert plain.validation is None
    config = config_for(db)
    with Flow("plain") as flow:
        with Stage("src"):
            people = vt.people(True)
        with Stage("use"):
            plain(people, 1)
    result = flow.run(config=config)
    assert result.successful, result.exception
    assert read_view(config, "use", "plain") == [(5,)]


def test_the_mode_is_checked_when_the_config_is_made(tmp_path: Path) -> None:
    from tabledag import ConfigError, create_basic_config

    url = f"duckdb:///{tmp_path}/x.duckdb"
    assert create_basic_config(url).validation == "fail"
    with pytest.raises(
        ConfigError, match="`validation` must be one of fail, warn, off, not 'warm'"
    ):
        create_basic_config(url, validation="warm")
    (tmp_path / "tabledag.yaml").write_text(
        "instances:\n"
        "  __any__:\n"
        f"    table_store: {{class: tabledag.SQLTableStore, args: {{url: '{url}'}}}}\n"
        "  lenient: {validation: warn}\n"
        "  strict: {}\n"
        "  typo: {validation: of}\n"
    )
    file = Config.load(tmp_path)
    assert file.get("lenient").validation == "warn"
    assert file.get("strict").validation == "fail"
    with pytest.raises(ConfigError, match=r"instance 'typo'.*Did you mean 'off'\?"):
        file.get("typo")


# -- parallel engines --------------------------------------------------------------------------

ENGINES = ["threads", "processes", pytest.param("dask", marks=pytest.mark.dask)]


@pytest.fixture
def dask_address() -> str:
    from . import conftest

    return conftest.dask_address()


@pytest.fixture
def pg(tmp_path: Path) -> Any:
    target = _make_target("postgres", tmp_path)
    yield target
    _release(target)


@pytest.mark.postgres
@pytest.mark.parametrize("engine_name", ENGINES)
def test_workers_validate_with_the_task(
    pg: StoreTarget, engine_name: str, request: pytest.FixtureRequest
) -> None:
    """The plan travels with the task by import path and is read again in the worker, which
    reads, casts and checks the tables (the driver never holds them): the cast output, the
    error's text and its failure counts come back from the worker."""
    from .test_engines import engine

    config = config_for(pg)
    with Flow("engines") as flow:
        with Stage("src"):
            good = vt.people(False)
            bad = vt.people.with_name("bad_people")(True)
            vt.make_people(False)
        with Stage("use"):
            vt.read_lazy(good)
        with Stage("use_bad"):
            failing = vt.read_eager(bad)
    result = flow.run(config, engine=engine(engine_name, request))
    assert read_view(config, "use", "read_lazy") == [(5, "Int16", "LazyFrame")]
    assert column_type(config, "src", "make_people", "age") == "smallint"
    error = cause(result, failing.call)
    assert isinstance(error, TableValidationError)
    assert "task 'read_eager' in stage 'use_bad'" in str(error)
    assert error.failures == {"src.bad_people": {"age|min": 2, "name|nullability": 1}}
    assert result.committed == {"src", "use"}
