"""A colspec-annotated query output is checked by the database (pydiverse.transform builds
colspec's filter as SQL): the query is kept as `_raw_<name>`, its valid rows become `<name>`,
and only counts (and a few example rows) reach Python. On DuckDB and PostgreSQL.

Needs pydiverse.transform 0.2.3 or newer beside colspec: it runs in the venv of
`nox -s pipedag_examples` (and that step of `.ci/run`); elsewhere it skips. Without
pydiverse.transform a query output is read back and checked as polars
(tests/test_validation_colspec.py).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from tabledag import FinalTaskState, Flow, Stage, Table, TableValidationError, materialize

from .conftest import StoreTarget, _make_target, _release, required

if not required("colspec_sql"):  # `.ci/run` sets it where the venv has both: never a skip
    pytest.importorskip("pydiverse.colspec")
    pytest.importorskip("pydiverse.transform")

import pydiverse.colspec as cs

from tabledag.validation import colspec_sql

from .dbutil import query, read_view
from .test_validation import SQL_STORES, cause, column_type, config_for

pytestmark = pytest.mark.skipif(
    not colspec_sql.available("duckdb") and not required("colspec_sql"),
    reason="colspec checks queries in SQL with pydiverse.transform >= 0.2.3 only",
)


@pytest.fixture(params=SQL_STORES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    target = _make_target(request.param, tmp_path)
    yield target
    _release(target)


class PersonSpec(cs.ColSpec):
    id = cs.Int64(primary_key=True)
    age = cs.Int16(min=0)
    name = cs.String(nullable=False)


GOOD = "(1, 30, 'ann'), (2, 41, 'bob'), (3, 7, 'cy')"
BAD = ", (4, -1, 'dee'), (5, 20, NULL), (5, 22, 'eve')"


@materialize(lazy=True)
def people(bad: bool) -> PersonSpec:
    rows = GOOD + (BAD if bad else "")
    return Table(f"SELECT * FROM (VALUES {rows}) AS t(id, age, name)", name="people")


def stage_objects(config: Any, stage: str) -> set[str]:
    schema = config.store.schema_name(stage)
    rows = query(
        config,
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'",
    )
    return {r[0] for r in rows}


def test_valid_rows_of_a_query_are_cast_and_the_query_kept_raw(db: StoreTarget) -> None:
    config = config_for(db)
    with Flow("in_db") as flow, Stage("s"):
        call = people(False)
    result = flow.run(config=config)
    assert result.successful, result.exception
    assert sorted(r[0] for r in read_view(config, "s", "people")) == [1, 2, 3]
    assert column_type(config, "s", "people", "age") == "smallint"
    assert column_type(config, "s", "_raw_people", "age") == "integer"
    assert len(read_view(config, "s", "_raw_people")) == 3
    assert not any("primary_key" in n for n in stage_objects(config, "s"))  # inlined
    again = flow.run(config=config)
    assert again.states[call.call] is FinalTaskState.CACHE_VALID


def test_invalid_rows_counted_by_the_database_fail_the_task(db: StoreTarget) -> None:
    with Flow("in_db") as flow, Stage("s"):
        call = people(True)
    result = flow.run(config=config_for(db))
    error = cause(result, call.call)
    assert isinstance(error, TableValidationError)
    text = str(error)
    assert "task 'people' in stage 's': output table (checked in the database)" in text
    assert "fails validation with PersonSpec" in text
    assert "table s.people: 3 of 6 rows invalid" in text
    assert "dee" in text  # the first invalid rows are shown
    assert error.failures == {"s.people": {"age|min": 1, "name|nullability": 1, "_primary_key_": 2}}


def test_in_warn_mode_the_table_holds_the_valid_rows_and_raw_all(
    db: StoreTarget, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(db, validation="warn")
    with Flow("in_db") as flow, Stage("s"):
        people(True)
    with caplog.at_level(logging.WARNING, logger="tabledag.validation"):
        result = flow.run(config=config)
    assert result.successful, result.exception
    assert sorted(r[0] for r in read_view(config, "s", "people")) == [1, 2, 3]
    assert len(read_view(config, "s", "_raw_people")) == 6
    assert "3 of 6 rows invalid" in caplog.text and "'people' holds the valid rows" in caplog.text


def test_kept_subqueries_are_tables_of_the_stage(db: StoreTarget) -> None:
    config = dataclasses.replace(config_for(db), keep_validation_subqueries=True)
    with Flow("in_db") as flow, Stage("s"):
        call = people(False)
    result = flow.run(config=config)
    assert result.successful, result.exception
    kept = [n for n in stage_objects(config, "s") if n.startswith("_raw_people__primary_key_")]
    assert len(kept) == 1, stage_objects(config, "s")
    assert read_view(config, "s", kept[0])  # one row per id, with its count
    again = flow.run(config=config)
    assert again.states[call.call] is FinalTaskState.CACHE_VALID
    assert kept[0] in stage_objects(config, "s")
