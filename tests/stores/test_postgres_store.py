"""Postgres-only behaviour: the psycopg2 fallback, long identifiers, and the example pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from tabledag import Flow, Stage, Table, materialize
from tests import dbutil

pytestmark = pytest.mark.postgres

LONG_A = "a_table_name_that_is_far_longer_than_postgres_allows_for_names_version_one"
LONG_B = "a_table_name_that_is_far_longer_than_postgres_allows_for_names_version_two"


@materialize(version="1")
def two_long_tables() -> list:
    return [
        Table(pa.table({"x": [1, 2]}), name=LONG_A),
        Table(pa.table({"x": [3, 4, 5]}), name=LONG_B),
    ]


@materialize(input_type=pa.Table, version="1")
def count_rows(a: pa.Table, b: pa.Table) -> pa.Table:
    return pa.table({"a": [a.num_rows], "b": [b.num_rows]})


@materialize()
def mixed() -> pa.Table:
    return pa.table(
        {
            "i": pa.array([1, None, 3], pa.int32()),
            "s": ["x", None, "größe"],
            "d": pa.array([1.5, 2.5, None], pa.float64()),
        }
    )


@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_names_longer_than_63_bytes_stay_distinct(target) -> None:
    assert len(LONG_A.encode()) > 63 and LONG_A[:63] == LONG_B[:63]
    with Flow("long") as flow:
        with Stage("a_stage_whose_name_is_rather_long_too_for_comfort_in_postgres_xx"):
            both = two_long_tables()
        with Stage("counts"):
            counted = count_rows(both[0], both[1])
    result = flow.run(config=target.config())
    assert result.successful, result.exception
    assert result.get(counted).to_pylist() == [{"a": 2, "b": 3}]
    assert result.get(both[0]).num_rows == 2 and result.get(both[1]).num_rows == 3


@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_psycopg2_fallback_matches_adbc(target) -> None:
    with Flow("drivers") as flow, Stage("raw"):
        out = mixed()
    adbc = flow.run(config=target.config(driver="adbc"))
    assert adbc.successful, adbc.exception
    fallback = flow.run(config=target.config(driver="psycopg2"), ignore_cache=True)
    assert fallback.successful, fallback.exception
    assert fallback.get(out).equals(adbc.get(out))
    rows = dbutil.read_view(target.config(), "raw", "mixed")
    assert sorted(rows, key=str) == sorted(
        [(1, "x", 1.5), (None, None, 2.5), (3, "größe", None)], key=str
    )


@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_example_pipeline_runs(target) -> None:
    example = Path(__file__).parents[2] / "examples" / "postgres" / "run_pipeline.py"
    server = target.url.rsplit("/", 1)[0]
    env = {**os.environ, "PG_URL": server}
    done = subprocess.run(
        [sys.executable, str(example)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "revenue_by_segment" not in done.stderr
    assert "COMPLETED" in done.stdout or "CACHE_VALID" in done.stdout
    assert "CACHE_VALID" in done.stdout.split("\n\n")[1]


@materialize()
def wide_column() -> pa.Table:
    return pa.table({"c" * 70: [1]})


@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_column_name_over_63_bytes_is_a_clear_error(target) -> None:
    with Flow("wide") as flow, Stage("raw"):
        wide_column()
    result = flow.run(config=target.config())
    assert not result.successful
    message = str(result.exception)
    assert "'wide_column'" in message and "stage 'raw'" in message and "c" * 70 in message
    assert "63" in message
