"""Attaching to a ParquetTableStore from its files alone: an instance of 50 tables in 5 stages
on local disk (10 eager pyarrow tables of 10k mixed rows, then 4 stages of 10 lazy ibis tasks,
each filtering the table of the stage before), built once; then, each repetition on a new
catalogue:

- `ParquetTableStore(parquet_base_path=..., url=<new empty DuckDB file>).sync()` (timed:
  constructing the store and `sync()`; its `close()` timed apart), and the same with the
  default in-memory catalogue;
- the first `flow.run` of the same flow on a new catalogue (all 50 tasks `CACHE_VALID`; the run
  attaches as it opens the store), with a new DuckDB file and in memory;
- for comparison, the cached rerun on the catalogue that built the instance (same `Config`, and
  a new store object on that catalogue file).

Raw reference: what an attach must do at least, on a raw DuckDB connection to a new file (and
in memory): list the stage directories, read and parse each `_manifest.json`, create the two
schemas of each stage and, in one transaction per stage, a view over `read_parquet(file)` per
table and a stage view onto it; close. Ratios: tabledag time / raw time (no target: the issue
asks for the time).

    python -m benchmarks.parquet_attach [--quick] [--reps N] [--json PATH]
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from . import _common as c
from .data import mixed_table
from .parquet import breakdown, profiled

ATTACH_BREAKDOWN: list[tuple[str, str, str]] = [
    ("flow.run, total", "tabledag/core/run.py", "run_flow"),
    ("store.sync(), total", "stores/parquet/store.py", "sync"),
    (
        "  open the store session (connect, first-use sync)",
        "stores/parquet/store.py",
        "open_session",
    ),
    ("    connect (DuckDB)", "tabledag/stores/sql/dialects/", "connect"),
    ("    metadata setup (SQLSession.setup)", "tabledag/stores/sql/session.py", "setup"),
    ("      adopt manifests (sync.sync)", "tabledag/stores/parquet/sync.py", "sync"),
    ("        list the stage directories (fs.ls)", "fsspec/implementations/local.py", "ls"),
    ("        read a manifest (manifest.read)", "stores/parquet/manifest.py", "read"),
    ("        parse a manifest (manifest.loads)", "stores/parquet/manifest.py", "loads"),
    ("        recorded generation (query)", "stores/parquet/sync.py", "_recorded_generation"),
    ("        adopt one stage (views + records)", "stores/parquet/sync.py", "adopt"),
    ("  stage start (begin_stage)", "tabledag/stores/", "begin_stage"),
    ("  run one task", "tabledag/core/execute.py", "execute_task"),
    ("    inputs: session.retrieve", "tabledag/stores/", "retrieve"),
    ("    output: session.write", "tabledag/stores/", "write"),
    ("  stage commit (commit_stage)", "tabledag/stores/", "commit_stage"),
    ("  close (session.close)", "tabledag/stores/", "close"),
    ("all SQL: session.execute", "tabledag/stores/", "execute"),
    ("  in the driver (Connection.execute)", "tabledag/stores/sql/dialects/", "execute"),
    ("  rendering sqlglot trees (Dialect.render)", "tabledag/stores/sql/dialect.py", "render"),
]


def build_flow(n_stages: int, per_stage: int, rows: int) -> tuple[Any, list[Any]]:
    import ibis

    from tabledag import Flow, Stage, materialize

    tables = {i: mixed_table(rows, seed=i) for i in range(per_stage)}

    @materialize(version="1")
    def load(i: int) -> Any:
        return tables[i]

    @materialize(lazy=True, input_type=ibis.Table)
    def refine(t: Any, k: int) -> Any:
        return t.filter(t.quantity > k).select("id", "customer_id", "quantity", "price", "category")

    calls = []
    with Flow("attach") as flow:
        previous: list[Any] = []
        for s in range(n_stages):
            with Stage(f"s{s}"):
                if s == 0:
                    current = [load.with_name(f"t0_{i:02d}")(i) for i in range(per_stage)]
                else:
                    current = [
                        refine.with_name(f"t{s}_{i:02d}")(previous[i], s) for i in range(per_stage)
                    ]
            calls += [ref.call for ref in current]
            previous = current
    return flow, calls


def raw_attach(root: Path, database: str) -> int:
    """What an attach must do at least: the views over the files, from the manifests."""
    import duckdb

    con = duckdb.connect(database)
    n = 0
    for directory in sorted(p for p in root.iterdir() if p.is_dir()):
        path = directory / "_manifest.json"
        if not path.exists():
            continue
        document = json.loads(path.read_bytes())
        stage = document["stage"]
        con.execute("BEGIN")
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{stage}__data"')
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{stage}"')
        for record in document["tables"]:
            physical = record["physical"]
            file = directory / f"{physical}.parquet"
            con.execute(
                f'CREATE OR REPLACE VIEW "{stage}__data"."{physical}" AS '
                f"SELECT * FROM read_parquet('{file}')"
            )
            if record["generation"] == document["generation"]:
                con.execute(
                    f'CREATE OR REPLACE VIEW "{stage}"."{record["view_name"]}" AS '
                    f'SELECT * FROM "{stage}__data"."{physical}"'
                )
                n += 1
        con.execute("COMMIT")
    con.close()
    return n


def body(report: c.Report, target: c.Target, args: Any) -> None:
    from tabledag import Config, ParquetTableStore

    n_stages, per_stage = (2, 5) if args.quick else (5, 10)
    rows = 1_000 if args.quick else 10_000
    n_tables = n_stages * per_stage
    reps = args.reps or (2 if args.quick else 9)
    report.params.update(
        tables=n_tables, stages=n_stages, rows_per_eager_table=f"{rows:,}", reps=reps, warmup=1
    )
    flow, calls = build_flow(n_stages, per_stage, rows)
    with target.fresh() as db:
        base = db.parquet_base_path
        built = db.config()
        first = flow.run(config=built)
        if not first.successful:
            raise RuntimeError(f"building the instance failed: {first.exception}")
        files = list(Path(base).rglob("*.parquet"))
        instance_root = Path(base) / "pipeline"
        mb = sum(p.stat().st_size for p in files) / 1e6
        report.params.update(files=len(files), mb=f"{mb:.1f}")
        scratch = db.directory / "scratch"
        scratch.mkdir()
        counter = iter(range(1_000_000))
        closes: dict[str, list[float]] = {"file": [], "memory": []}
        states: dict[str, Counter[str]] = {}

        def new_url(kind: str) -> str:
            return (
                "duckdb:///:memory:"
                if kind == "memory"
                else f"duckdb:///{scratch}/catalogue{next(counter)}.duckdb"
            )

        def attach(url: str, kind: str) -> float:
            started = time.perf_counter()
            store = ParquetTableStore(url, parquet_base_path=base)
            adopted = store.sync()
            elapsed = time.perf_counter() - started
            if len(adopted) != n_stages:
                raise RuntimeError(f"sync adopted {adopted}, not {n_stages} stages")
            started = time.perf_counter()
            store.close()
            closes[kind].append(time.perf_counter() - started)
            return elapsed

        def spec(url: str) -> dict[str, Any]:
            args = {"parquet_base_path": base, "url": url}
            return {"class": "tabledag.ParquetTableStore", "args": args}

        def cached_run(config: Any, name: str) -> None:
            result = flow.run(config=config)
            if result.exception is not None:
                raise RuntimeError(f"{name}: {result.exception}") from result.exception
            states[name] = Counter(result.states[call].name for call in calls)

        def close_store(config: Any) -> None:
            if "store" in config.__dict__:
                config.store.close()

        cases = [
            c.Case(
                "raw:file",
                lambda u: raw_attach(instance_root, u[len("duckdb:///") :]),
                lambda: new_url("file"),
            ),
            c.Case(
                "raw:memory",
                lambda u: raw_attach(instance_root, ":memory:"),
                lambda: new_url("memory"),
            ),
            c.Case("sync:file", lambda u: attach(u, "file"), lambda: new_url("file")),
            c.Case("sync:memory", lambda u: attach(u, "memory"), lambda: new_url("memory")),
            c.Case(
                "run:file",
                lambda cfg: cached_run(cfg, "run:file"),
                lambda: Config("pipeline", spec(new_url("file"))),
                close_store,
            ),
            c.Case(
                "run:memory",
                lambda cfg: cached_run(cfg, "run:memory"),
                lambda: Config("pipeline", spec(new_url("memory"))),
                close_store,
            ),
            c.Case("run:built", lambda cfg: cached_run(cfg, "run:built"), lambda: built),
            c.Case(
                "run:built_new_store",
                lambda cfg: cached_run(cfg, "run:built_new_store"),
                lambda: Config("pipeline", dict(built.table_store)),
                close_store,
            ),
        ]
        times = c.interleaved(cases, reps)

        profiles = {
            "store.sync(), new DuckDB file": profiled(lambda: attach(new_url("file"), "file")),
        }
        config = Config("pipeline", spec(new_url("file")))
        profiles["first cached flow.run, new DuckDB file"] = profiled(
            lambda: cached_run(config, "run:file")
        )
        close_store(config)
        for kind in closes:
            closes[kind] = closes[kind][-reps:]

    section = report.section(
        f"attach {n_tables} tables ({n_stages} stages) from the files on a new catalogue; "
        "ratios = tabledag time / raw time",
        ["case", "catalogue", "ms", "spread", "best ms", "ms/table", "/ raw", "(best)", "tasks"],
    )
    labels = [
        ("raw:file", "raw: manifests -> DuckDB views", "new file", None),
        ("raw:memory", "raw: manifests -> DuckDB views", "in memory", None),
        ("sync:file", "ParquetTableStore(...).sync()", "new file", "raw:file"),
        ("sync:memory", "ParquetTableStore(...).sync()", "in memory", "raw:memory"),
        ("run:file", "first cached flow.run", "new file", "raw:file"),
        ("run:memory", "first cached flow.run", "in memory", "raw:memory"),
        ("run:built", "cached rerun (same Config)", "the building one", None),
        ("run:built_new_store", "cached rerun (new store object)", "the building one", None),
    ]
    for key, label, where, raw_key in labels:
        t = times[key]
        raw = times[raw_key] if raw_key else None
        counted = states.get(key)
        section.rows.append(
            [
                label,
                where,
                c.ms(t.median),
                t.spread,
                c.ms(t.best),
                c.ms(t.median / n_tables, 2),
                c.ratio(t.median / raw.median) if raw else "",
                c.ratio(t.best / raw.best) if raw else "",
                ", ".join(f"{n} {s}" for s, n in sorted(counted.items())) if counted else "",
            ]
        )
    report.notes += [
        "sync(): constructing the store and sync() (which opens the store's first session: "
        "connect, metadata tables, adopt every manifest); store.close() afterwards took "
        f"{c.ms(_median(closes['file']))} ms (new file) / {c.ms(_median(closes['memory']))} ms "
        "(in memory), not included",
        "first cached flow.run: a new Config over the same files and a new catalogue; the run "
        "attaches as it opens the store, then finds every task cached; cached rerun: the "
        "catalogue that built the instance (nothing to adopt)",
        "raw: duckdb.connect, read + json-parse each manifest, CREATE SCHEMA x2 and one view "
        "over read_parquet() plus one stage view per table, one transaction per stage, close",
    ]
    for label, stats in profiles.items():
        report.blocks.append(
            f"{label}: where the time goes (one run under cProfile):\n"
            f"{breakdown(stats, ATTACH_BREAKDOWN)}"
        )


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    args = c.parser(__doc__.splitlines()[0], ("parquet",)).parse_args(argv)
    c.silence_tabledag_logging()
    return c.main_wrapper("parquet_attach", args, lambda r, t: body(r, t, args), {})


if __name__ == "__main__":
    raise SystemExit(main())
