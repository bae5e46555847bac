"""Benchmark data: a mixed-type table of 11 columns, about 90 bytes a row in Arrow.

    3 int64 · 3 float64 (one with 1 % nulls) · 2 strings (low and high cardinality, 1 % nulls in
    one) · 2 timestamps (naive and UTC, microseconds) · 1 bool

`python -m benchmarks.data [n_rows]` prints the schema and the size per row.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

_WORDS = (
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
)


def mixed_table(n_rows: int, seed: int = 0) -> pa.Table:
    """A deterministic table of `n_rows` rows and 11 mixed columns (~90 bytes/row)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    n = int(n_rows)

    def nulls(fraction: float) -> Any:
        return rng.random(n) < fraction

    # strings: a 20-value category column, and one drawn from a pool of 50k ids ("cust-0001234")
    category = pa.array(_WORDS).take(pa.array(rng.integers(0, len(_WORDS), n)))
    pool = pa.array([f"c-{i:07d}" for i in range(50_000)])
    customer = pool.take(pa.array(rng.integers(0, len(pool), n)))
    customer = pc.if_else(pa.array(nulls(0.01)), pa.scalar(None, pa.string()), customer)

    start = np.datetime64("2020-01-01T00:00:00", "us").astype(np.int64)
    span = 5 * 365 * 86_400 * 1_000_000
    created = start + rng.integers(0, span, n)
    updated = created + rng.integers(0, 86_400 * 1_000_000, n)

    price = rng.normal(100.0, 25.0, n)
    return pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "customer_id": pa.array(rng.integers(0, 50_000, n, dtype=np.int64)),
            "quantity": pa.array(rng.integers(1, 100, n, dtype=np.int64)),
            "price": pa.array(price),
            "discount": pa.array(rng.random(n), mask=nulls(0.01)),
            "score": pa.array(rng.standard_normal(n)),
            "category": category,
            "customer": customer,
            "created_at": pa.array(created, type=pa.timestamp("us")),
            "updated_at": pa.array(updated, type=pa.timestamp("us", tz="UTC")),
            "is_active": pa.array(rng.random(n) < 0.7),
        }
    )


def to_pandas(t: pa.Table) -> Any:
    """The table as a pandas DataFrame (numpy-backed numbers, pandas' default string dtype)."""
    return t.to_pandas()


def to_polars(t: pa.Table) -> Any:
    """The table as a polars DataFrame."""
    import polars as pl

    return pl.from_arrow(t)


def bytes_per_row(t: pa.Table) -> float:
    return t.nbytes / max(t.num_rows, 1)


if __name__ == "__main__":
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    table = mixed_table(rows)
    print(table.schema)
    mb = table.nbytes / 1e6
    print(f"{table.num_rows} rows, {mb:.1f} MB, {bytes_per_row(table):.1f} bytes/row")
