"""A colspec-annotated query output checked by the database vs read back into polars.

    python -m benchmarks.colspec_in_database [--rows 2000000] [--reps 3] [--postgres URL]

Needs pydiverse.transform (0.7) beside colspec: run it in the venv of `nox -s
pipedag_examples`. One lazy task writes an N-row query annotated with a `cs.ColSpec` (a
primary key, a bound, a non-null column) on a DuckDB file (or, with `--postgres`, in a new
database on that server), three ways, each timed as the best of
`--reps` fresh runs: the raw ceiling (the same query as CREATE TABLE ... AS, and colspec's
filter run by hand, on DuckDB directly), tabledag checking in the database (the default where
pdt is installed), and tabledag reading the written table back and checking it as polars (the
path without pdt). Printed as seconds and as ratios to the ceiling.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pydiverse.colspec as cs

import tabledag
from tabledag import Flow, Stage, Table, materialize
from tabledag.validation import colspec_sql


class Spec(cs.ColSpec):
    id = cs.Int64(primary_key=True)
    age = cs.Int16(min=0)
    name = cs.String(nullable=False)


def query(rows: int, postgres: bool) -> str:
    numbers = f"generate_series(0, {rows - 1}) AS g(range)" if postgres else f"range({rows})"
    return (
        f"SELECT range AS id, CAST(range % 90 AS INTEGER) AS age, 'n' || range AS name "
        f"FROM {numbers}"
    )


CHECKED = (
    "CREATE TABLE valid AS SELECT CAST(id AS BIGINT) id, CAST(age AS SMALLINT) age, name "
    "FROM raw WHERE age >= 0 AND name IS NOT NULL AND id IN "
    "(SELECT id FROM raw GROUP BY id HAVING count(*) = 1)"
)


def ceiling(where: str, rows: int) -> None:
    """The query written, and colspec's rules as one SQL pass, without tabledag."""
    if where.startswith("postgresql://"):
        import psycopg2

        con = psycopg2.connect(where)
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute(f"CREATE TABLE raw AS {query(rows, True)}")
            cursor.execute(CHECKED)
            cursor.execute("SELECT count(*) FROM raw WHERE age < 0 OR name IS NULL")
            cursor.fetchall()
        con.close()
        return
    duck = duckdb.connect(where)
    duck.execute(f"CREATE TABLE raw AS {query(rows, False)}")
    duck.execute(CHECKED)
    duck.execute("SELECT count(*) FROM raw WHERE age < 0 OR name IS NULL").fetchall()
    duck.close()


def tabledag_run(where: str, rows: int) -> None:
    postgres = where.startswith("postgresql://")

    @materialize(lazy=True)
    def people() -> Spec:
        return Table(query(rows, postgres), name="people")

    with Flow("bench") as flow, Stage("s"):
        people()
    url = where if postgres else f"duckdb:///{where}"
    result = flow.run(config=tabledag.create_basic_config(url))
    assert result.successful, result.exception


def best(fn: Callable[[str, int], None], rows: int, reps: int, postgres: str | None) -> float:
    """The shortest of `reps` runs, each on a new DuckDB file or a new Postgres database."""
    times = []
    for rep in range(reps):
        with tempfile.TemporaryDirectory() as tmp:
            where = str(Path(tmp) / "db.duckdb")
            if postgres is not None:
                where = _new_database(postgres, f"bench_colspec_{rep}")
            start = time.perf_counter()
            fn(where, rows)
            times.append(time.perf_counter() - start)
    return min(times)


def _new_database(url: str, name: str) -> str:
    import psycopg2

    con = psycopg2.connect(url)
    con.autocommit = True
    with con.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    con.close()
    return url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--postgres", help="a server URL: run there instead of on DuckDB")
    args = parser.parse_args()
    if not colspec_sql.available("duckdb"):
        raise SystemExit("needs pydiverse.transform >= 0.2.3 beside colspec")
    raw = best(ceiling, args.rows, args.reps, args.postgres)
    in_db = best(tabledag_run, args.rows, args.reps, args.postgres)
    colspec_sql.available = lambda dialect: False  # type: ignore[assignment]
    read_back = best(tabledag_run, args.rows, args.reps, args.postgres)
    where = "PostgreSQL" if args.postgres else "DuckDB"
    print(f"{where}, {args.rows} rows, best of {args.reps}")
    for label, seconds in (
        ("raw ceiling (the SQL by hand)", raw),
        ("tabledag, checked in the database", in_db),
        ("tabledag, read back and checked in polars", read_back),
    ):
        print(f"  {label:44} {seconds:7.3f} s  {seconds / raw:5.2f}x")


if __name__ == "__main__":
    main()
