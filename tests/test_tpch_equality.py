"""The TPC-H flow of benchmarks/tpch at SF 0.01 gives the same 22 results on every store.

Each store runs the whole flow (8 tables loaded as Arrow outputs with their keys and indexes,
the 22 queries as SQL text and as ibis expressions); every result must equal the reference:
the same SQL text run by DuckDB directly over tpchgen-cli's parquet files, outside tabledag.
Sorted rows, numbers within a relative 1e-6 (decimal vs double arithmetic differs by store).
tpchgen-cli is in the [test] extra; the data is cached under ~/.cache/tabledag-bench.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from benchmarks.tpch import compare, data, queries_sql
from benchmarks.tpch import flow as tpch_flow

from .conftest import StoreTarget

SF = 0.01


@pytest.fixture(scope="module")
def frames() -> dict[str, pa.Table]:
    return data.tables(SF)


@pytest.fixture(scope="module")
def reference(frames: dict[str, pa.Table]) -> dict[str, pa.Table]:
    import duckdb

    con = duckdb.connect()
    for name, table in frames.items():
        con.register(name, table)
    names = {t: t for t in frames}
    out = {q: con.sql(queries_sql.render(q, names)).to_arrow_table() for q in queries_sql.QUERIES}
    con.close()
    return out


@pytest.fixture(scope="module")
def tpch_run(module_target: StoreTarget, frames: dict[str, pa.Table]) -> Any:
    flow = tpch_flow.build(frames, SF)
    result = flow.run(config=module_target.config())
    yield result
    result.close()


def test_the_reference_is_not_empty(reference: dict[str, pa.Table]) -> None:
    assert len(reference) == 22
    assert sum(1 for t in reference.values() if t.num_rows > 0) == 22


def test_the_flow_succeeds(tpch_run: Any) -> None:
    assert tpch_run.successful, tpch_run.exception
    assert len(tpch_run.states) == 8 + 2 * 22


@pytest.mark.parametrize("stage", ["tpch_sql", "tpch_ibis"])
def test_every_query_equals_the_reference(
    tpch_run: Any, reference: dict[str, pa.Table], stage: str
) -> None:
    assert tpch_run.successful, tpch_run.exception
    problems = []
    for q, expected in reference.items():
        actual = tpch_run.get(f"{stage}.{q}", as_type=pa.Table)
        problems += compare.differences(expected, actual, f"{stage}.{q}")
    assert not problems, "\n".join(problems)


def test_the_loaded_tables_equal_the_files(tpch_run: Any, frames: dict[str, pa.Table]) -> None:
    for name in ("nation", "orders"):
        actual = tpch_run.get(f"tpch_raw.{name}", as_type=pa.Table)
        assert not compare.differences(frames[name], actual, name)
