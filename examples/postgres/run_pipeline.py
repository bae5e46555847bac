"""A small pipeline on PostgreSQL: eager frames bulk-loaded through ADBC, lazy ibis tasks run as
`CREATE TABLE AS` in the database, and a report read back as a polars frame.

    docker compose up -d postgres
    PG_URL=postgresql://postgres:tabledag@127.0.0.1:6543 python examples/postgres/run_pipeline.py

(or PG_URL=postgresql://postgres@127.0.0.1:5432 for a local server with trust auth).
"""

from __future__ import annotations

import os
from pathlib import Path

import ibis
import pandas as pd
import polars as pl

from tabledag import Config, Flow, Stage, Table, materialize


@materialize(version="1")
def customers() -> pl.DataFrame:
    return pl.DataFrame(
        {"customer_id": range(1000), "segment": [("retail", "online")[i % 2] for i in range(1000)]}
    )


@materialize()
def orders() -> pd.DataFrame:
    n = 100_000
    return pd.DataFrame(
        {
            "order_id": range(n),
            "customer_id": [i * 7919 % 1000 for i in range(n)],
            "amount": [(i * 104729 % 65536) / 100 for i in range(n)],
            "ordered_at": pd.date_range("2026-01-01", periods=n, freq="min", tz="UTC"),
        }
    )


@materialize(lazy=True, input_type=ibis.Table)
def revenue(orders: ibis.Table, customers: ibis.Table) -> Table:
    joined = orders.join(customers, "customer_id")
    per_segment = joined.group_by("segment").aggregate(
        orders=joined.count(), revenue=joined.amount.sum()
    )
    return Table(per_segment, name="revenue_by_segment", primary_key="segment")


def run(config: Config) -> None:
    """The flow, run twice (the second run is all cache hits), then the report as polars.
    The examples of the other databases (examples/mssql, db2, snowflake) run this same flow."""
    with Flow("example") as flow:
        with Stage("raw"):
            c = customers()
            o = orders()
        with Stage("model"):
            r = revenue(o, c)
    for _ in range(2):
        result = flow.run(config=config)
        print(result.summary(), end="\n\n")
    print(result.get(r, as_type=pl.DataFrame))


def main() -> None:
    os.environ.setdefault("PG_URL", "postgresql://postgres@127.0.0.1:5432")
    run(Config.load(Path(__file__).parent).get())


if __name__ == "__main__":
    main()
