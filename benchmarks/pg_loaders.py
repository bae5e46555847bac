"""Time our Postgres loaders against raw ADBC on a mixed 11-column table (medians of 3 runs).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/pg_loaders.py [--rows N] [--runs N]``.
The server is taken from TABLEDAG_TEST_POSTGRES_URL (default: local trust-auth postgres).
Writes go to a throwaway schema that is dropped at the end; each timed write is rolled back.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable

import numpy as np
import psycopg2
import pyarrow as pa
import pyarrow.compute as pc

from tabledag.loaders import adbc_postgres, psycopg2_copy
from tabledag.loaders.postgres_types import prepare_arrow

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def build_table(rows: int, seed: int = 42) -> pa.Table:
    """3 int64, 3 float64, 2 strings, 2 timestamps (naive and UTC), 1 bool; ~1% nulls."""
    rng = np.random.default_rng(seed)
    nulls = rng.random(rows) < 0.01
    start = np.datetime64("2020-01-01T00:00:00", "us").astype(np.int64)
    span = 5 * 365 * 86_400 * 1_000_000
    words = pa.array(["alpha", "beta", "gamma", "delta", "épsilon", "ζeta", "eta, theta"])
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "count": pa.array(rng.integers(0, 1_000, rows), mask=nulls),
            "big": pa.array(rng.integers(-(2**62), 2**62, rows)),
            "price": pa.array(rng.normal(100, 15, rows)),
            "ratio": pa.array(rng.random(rows), mask=nulls),
            "score": pa.array(rng.standard_cauchy(rows)),
            "label": words.take(pa.array(rng.integers(0, len(words), rows))),
            "code": pc.binary_join_element_wise(
                "item-", pa.array(rng.integers(0, 10**9, rows)).cast(pa.string()), ""
            ),
            "created": pa.array(start + rng.integers(0, span, rows), pa.timestamp("us")),
            "updated": pa.array(
                start + rng.integers(0, span, rows), pa.timestamp("us", "UTC"), mask=nulls
            ),
            "active": pa.array(rng.random(rows) < 0.5),
        }
    )


def median_seconds(
    cases: dict[str, Callable[[], object]], after: Callable[[], object], runs: int
) -> dict[str, float]:
    """Median wall time per case; runs are interleaved so load drift hits every case alike."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
            after()
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("TABLEDAG_TEST_POSTGRES_URL") or DEFAULT_URL
    table = build_table(args.rows)
    assert prepare_arrow(table) is table, "the benchmark table should need no conversion"
    schema = f"tabledag_bench_{uuid.uuid4().hex[:8]}"

    adbc = adbc_postgres.connect(url)
    pg2 = psycopg2.connect(url)
    with adbc.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    adbc.commit()
    names = (f"t{i}" for i in range(1_000_000))
    try:

        def raw_ingest() -> None:
            with adbc.cursor() as cur:
                cur.adbc_ingest(next(names), table, mode="create", db_schema_name=schema)

        def rollback() -> None:
            adbc.rollback()
            pg2.rollback()

        results = median_seconds(
            {
                "raw_ingest": raw_ingest,
                "adbc_ingest": lambda: adbc_postgres.ingest(adbc, schema, next(names), table),
                "pg2_ingest": lambda: psycopg2_copy.ingest(pg2, schema, next(names), table),
            },
            rollback,
            args.runs,
        )

        adbc_postgres.ingest(adbc, schema, "source", table)
        adbc.commit()
        sql = f'SELECT * FROM "{schema}".source'

        def raw_read() -> pa.Table:
            with adbc.cursor() as cur:
                cur.execute(sql)
                return cur.fetch_arrow_table()

        results |= median_seconds(
            {
                "raw_read": raw_read,
                "adbc_read": lambda: adbc_postgres.read(adbc, sql),
                "pg2_read": lambda: psycopg2_copy.read(pg2, sql),
            },
            rollback,
            args.runs,
        )
        assert psycopg2_copy.read(pg2, sql).equals(adbc_postgres.read(adbc, sql))
        pg2.rollback()
        report(args.rows, args.runs, table, results)
    finally:
        adbc.rollback()
        pg2.rollback()
        with adbc.cursor() as cur:
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        adbc.commit()
        adbc.close()
        pg2.close()


def report(rows: int, runs: int, table: pa.Table, r: dict[str, float]) -> None:
    print(f"{rows:,} rows x {table.num_columns} columns, {table.nbytes / 2**20:.0f} MiB in Arrow")
    print(f"median of {runs} runs; ratio = raw ADBC time / our time (1.00 = same speed)")
    lines = [
        ("raw cursor.adbc_ingest", r["raw_ingest"], None),
        ("adbc_postgres.ingest", r["adbc_ingest"], r["raw_ingest"]),
        ("psycopg2_copy.ingest", r["pg2_ingest"], r["raw_ingest"]),
        ("raw fetch_arrow_table", r["raw_read"], None),
        ("adbc_postgres.read", r["adbc_read"], r["raw_read"]),
        ("psycopg2_copy.read", r["pg2_read"], r["raw_read"]),
    ]
    for label, seconds, raw in lines:
        ratio = "" if raw is None else f"  ratio {raw / seconds:.2f}"
        print(f"  {label:<24} {seconds:7.3f} s{ratio}")


if __name__ == "__main__":
    main()
