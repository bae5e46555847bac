"""Bulk load and read-back: a 1M-row mixed frame (5M with `--large`) returned by an eager task as
pyarrow / polars / pandas, written to a committed table.

Load: the whole `flow.run` of a one-task flow on a fresh database each repetition (connect,
metadata setup, hashing the data, the bulk load, views, commit, close), against the raw
reference on a fresh database of the same kind: DuckDB `CREATE TABLE AS SELECT * FROM <arrow>`
(also from the pandas and polars frames) on a raw connection, connect and close included;
for Postgres, ADBC `adbc_ingest` of the Arrow table. Target: speed (raw time / tabledag time)
>= 0.9x.

Read: the committed table read back as a task input (`input_type=`, the task's own duration)
and through `result.get(as_type=...)` (which opens a session), against a raw query on an open
connection: DuckDB `con.sql(...).to_arrow_table()` / `.pl()` / `.df()`; for Postgres ADBC
`fetch_arrow_table()` (+ polars / pandas conversion).

    python -m benchmarks.frame_load [--store duckdb|postgres] [--quick] [--large]
"""

from __future__ import annotations

from typing import Any

from . import _common as c
from .data import mixed_table, to_pandas, to_polars

TARGET_SPEED = 0.9
FORMATS = ("pyarrow", "polars", "pandas")


def frame_types() -> dict[str, Any]:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    return {"pyarrow": pa.Table, "polars": pl.DataFrame, "pandas": pd.DataFrame}


# -- raw references --------------------------------------------------------------------------------


def raw_load(kind: str, raw_url: str, frame: Any) -> None:
    if kind == "duckdb":
        import duckdb

        con = duckdb.connect(raw_url)
        con.register("src", frame)
        con.execute("CREATE TABLE data AS SELECT * FROM src")
        con.unregister("src")
        con.close()
    else:
        import adbc_driver_postgresql.dbapi as adbc

        con = adbc.connect(raw_url)
        with con.cursor() as cur:
            cur.adbc_ingest("data", frame, mode="create")
        con.commit()
        con.close()


def raw_connect(kind: str, raw_url: str) -> Any:
    if kind == "duckdb":
        import duckdb

        return duckdb.connect(raw_url)
    import adbc_driver_postgresql.dbapi as adbc

    return adbc.connect(raw_url)


def raw_read(kind: str, con: Any, sql: str, fmt: str) -> Any:
    if kind == "duckdb":
        rel = con.sql(sql)
        return {"pyarrow": rel.to_arrow_table, "polars": rel.pl, "pandas": rel.df}[fmt]()
    with con.cursor() as cur:
        cur.execute(sql)
        data = cur.fetch_arrow_table()
    return {
        "pyarrow": lambda: data,
        "polars": lambda: to_polars(data),
        "pandas": lambda: data.to_pandas(),
    }[fmt]()


# -- flows -----------------------------------------------------------------------------------------


def load_flow(fmt: str, frames: dict[str, Any]) -> Any:
    from tabledag import Flow, Stage, materialize

    @materialize(name="data")
    def produce() -> Any:
        return frames[fmt]

    with Flow(f"load_{fmt}") as flow, Stage("load"):
        produce()
    return flow


def read_flow(frames: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A cached (versioned) producer and one consumer per input type, which run every time."""
    from tabledag import Flow, Stage, materialize

    @materialize(name="data", version="1")
    def produce() -> Any:
        return frames["pyarrow"]

    consumers = {}
    with Flow("read") as flow:
        with Stage("load"):
            data = produce()
        with Stage("use"):
            for fmt, type_ in frame_types().items():

                @materialize(name=f"read_{fmt}", input_type=type_)
                def consume(frame: Any) -> dict:
                    return {"rows": len(frame)}

                consumers[fmt] = consume(data)
    return flow, {"data": data, **consumers}


def _check(result: Any, what: str) -> None:
    if result.exception is not None:
        raise RuntimeError(f"{what}: the flow failed: {result.exception}") from result.exception


# -- the benchmark ---------------------------------------------------------------------------------


def body(report: c.Report, target: c.Target, args: Any) -> None:
    n_rows = 100_000 if args.quick else 5_000_000 if args.large else 1_000_000
    reps = args.reps or (2 if args.quick else 7)
    table = mixed_table(n_rows)
    frames = {"pyarrow": table, "polars": to_polars(table), "pandas": to_pandas(table)}
    report.params.update(rows=f"{n_rows:,}", mb=f"{table.nbytes / 1e6:.0f}", reps=reps, warmup=1)
    load(report, target, frames, reps)
    read(report, target, frames, reps, n_rows)


def load(report: c.Report, target: c.Target, frames: dict[str, Any], reps: int) -> None:
    def setup() -> Any:
        ctx = target.fresh()
        return ctx, ctx.__enter__()

    def teardown(state: Any) -> None:
        state[0].__exit__(None, None, None)

    raw_formats = ("pyarrow", "pandas", "polars") if target.kind == "duckdb" else ("pyarrow",)
    cases = [
        c.Case(
            f"raw:{fmt}",
            lambda s, f=fmt: raw_load(target.kind, s[1].raw_url, frames[f]),
            setup,
            teardown,
        )
        for fmt in raw_formats
    ]
    flows = {fmt: load_flow(fmt, frames) for fmt in FORMATS}
    for fmt, flow in flows.items():

        def run(state: Any, flow: Any = flow, fmt: str = fmt) -> None:
            _check(flow.run(config=state[1].config()), f"load {fmt}")

        cases.append(c.Case(f"td:{fmt}", run, setup, teardown))
    # the fixed cost of a run, whatever the data: the same with a 1-row table
    one_row = {"pyarrow": frames["pyarrow"].slice(0, 1)}
    tiny_flow = load_flow("pyarrow", one_row)
    cases.append(
        c.Case(
            "raw:1row",
            lambda s: raw_load(target.kind, s[1].raw_url, one_row["pyarrow"]),
            setup,
            teardown,
        )
    )
    cases.append(
        c.Case(
            "td:1row",
            lambda s: _check(tiny_flow.run(config=s[1].config()), "load 1 row"),
            setup,
            teardown,
        )
    )
    times = c.interleaved(cases, reps)

    raw_name = "DuckDB CTAS from" if target.kind == "duckdb" else "ADBC adbc_ingest of"
    section = report.section(
        "load: eager task output -> committed table (whole flow.run, fresh database)",
        [
            "case",
            "ms",
            "spread",
            "best ms",
            "speed vs raw arrow",
            "(best)",
            "vs raw same format",
            "target",
            "verdict",
        ],
    )
    raw_arrow = times["raw:pyarrow"].median
    for fmt in raw_formats:
        t = times[f"raw:{fmt}"]
        section.rows.append(
            [
                f"raw: {raw_name} {fmt}",
                c.ms(t.median, 0),
                t.spread,
                c.ms(t.best, 0),
                c.ratio(raw_arrow / t.median),
                c.ratio(times["raw:pyarrow"].best / t.best),
                "",
                "",
                "",
            ]
        )
    for fmt in FORMATS:
        t = times[f"td:{fmt}"]
        speed = raw_arrow / t.median
        same = times.get(f"raw:{fmt}")
        section.rows.append(
            [
                f"tabledag: {fmt} task output",
                c.ms(t.median, 0),
                t.spread,
                c.ms(t.best, 0),
                c.ratio(speed),
                c.ratio(times["raw:pyarrow"].best / t.best),
                c.ratio(same.median / t.median) if same else "",
                f">= {TARGET_SPEED}",
                c.verdict(speed >= TARGET_SPEED),
            ]
        )
    raw1, td1 = times["raw:1row"], times["td:1row"]
    fixed = report.section(
        "fixed cost of a load run: the same with a 1-row pyarrow table (fresh database)",
        ["case", "ms", "spread", "best ms", "tabledag - raw ms", "(best)"],
    )
    fixed.rows.append(
        [f"raw: {raw_name} 1 row", c.ms(raw1.median), raw1.spread, c.ms(raw1.best), "", ""]
    )
    fixed.rows.append(
        [
            "tabledag: 1-row task output",
            c.ms(td1.median),
            td1.spread,
            c.ms(td1.best),
            c.ms(td1.median - raw1.median),
            c.ms(td1.best - raw1.best),
        ]
    )
    report.notes.append(
        "speed = raw time / tabledag time (higher is better; 1.00x = as fast as raw); "
        "(best) = the same from the fastest repetitions; the verdict uses medians against the "
        "raw load from Arrow"
    )


def read(
    report: c.Report, target: c.Target, frames: dict[str, Any], reps: int, n_rows: int
) -> None:
    flow, refs = read_flow(frames)
    types = frame_types()
    with target.fresh() as db:
        config = db.config()
        first = flow.run(config=config)
        _check(first, "read: first run")
        with config.store.session() as session:  # the physical table, as a raw reader names it
            physical = session.sql_table(first.outputs[refs["data"].call])
            sql = "SELECT * FROM " + session.render(physical)
        task_times: dict[str, c.Timings] = {f: c.Timings() for f in FORMATS}

        def run_flow(_: Any) -> None:
            result = flow.run(config=config)
            _check(result, "read: rerun")
            if result.states[refs["data"].call].name != "CACHE_VALID":
                raise RuntimeError("read: the versioned producer was not cached")
            for fmt in FORMATS:
                task_times[fmt].samples.append(result.durations[refs[fmt].call])

        def get(_: Any, fmt: str) -> None:
            value = first.get(refs["data"], as_type=types[fmt])
            if len(value) != n_rows:
                raise RuntimeError(f"result.get({fmt}) gave {len(value)} rows, not {n_rows}")

        cases = [c.Case("flow", run_flow)]
        for fmt in FORMATS:
            cases.append(
                c.Case(
                    f"raw:{fmt}",
                    lambda con, f=fmt: raw_read(target.kind, con, sql, f),
                    lambda: raw_connect(target.kind, db.raw_url),
                    lambda con: con.close(),
                )
            )
            cases.append(c.Case(f"get:{fmt}", lambda s, f=fmt: get(s, f)))
        times = c.interleaved(cases, reps)
        for t in task_times.values():
            t.samples = t.samples[-reps:]  # drop the warm-up round

    raw_what = (
        "con.sql(...).to_arrow_table() / .pl() / .df()"
        if target.kind == "duckdb"
        else "ADBC fetch_arrow_table() (+ to polars / pandas)"
    )
    section = report.section(
        f"read back {n_rows:,} rows (raw: {raw_what} on an open connection)",
        [
            "format",
            "raw ms",
            "task input ms",
            "speed",
            "result.get ms",
            "speed",
            "target",
            "verdict",
        ],
    )
    for fmt in FORMATS:
        raw = times[f"raw:{fmt}"].median
        task = task_times[fmt].median
        get_ = times[f"get:{fmt}"].median
        section.rows.append(
            [
                fmt,
                c.ms(raw, 0),
                c.ms(task, 0),
                c.ratio(raw / task),
                c.ms(get_, 0),
                c.ratio(raw / get_),
                f">= {TARGET_SPEED}",
                c.verdict(min(raw / task, raw / get_) >= TARGET_SPEED),
            ]
        )
    report.notes.append(
        "task input ms = the consuming task's own duration (reading its input + len()); "
        "result.get also opens a store session (lock, connect, metadata setup, close)"
    )


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument("--large", action="store_true", help="5M rows instead of 1M")
    args = p.parse_args(argv)
    c.silence_tabledag_logging()
    return c.main_wrapper("frame_load", args, lambda r, t: body(r, t, args), {})


if __name__ == "__main__":
    raise SystemExit(main())
