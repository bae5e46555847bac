"""Per-task overhead: 200 tiny lazy tasks in 5 stages of 40, each a trivial filter/projection of
the previous task's output, chained; on a fresh database.

Variants: tasks taking `ibis.Table` inputs and returning ibis expressions; tasks taking `str`
inputs (the input's qualified name) and returning SQL text; and tasks taking `sqlalchemy.Table`
inputs and returning `sqlalchemy.select(...)` over them. The first task of the chain returns a
10-row VALUES query as SQL text.

Timed (whole `flow.run`, per task): the fresh run; the fully cached rerun with the same `Config`
(the store object is reused); the cached rerun with a new `Config` (a new store object); and the
fresh run and cached rerun each as the first `flow.run` of a new Python process (cold in-process
caches; imports and declaration excluded). Reference: the same 200 `CREATE TABLE AS` statements
(plus the 5 `CREATE SCHEMA`) run directly on a raw connection to a fresh database (DuckDB;
psycopg2 for Postgres), including connecting and closing.

Also profiles a fresh run and cached reruns of every variant with cProfile, and prints the ibis
variant's and the SQLAlchemy variant's; with `--save` the full profile goes to
`benchmarks/results/tiny_tasks_profile[_postgres].txt`.

With `--store parquet`: the same flows on a ParquetTableStore in a temporary directory (its
catalogue a DuckDB file there; lazy outputs are `COPY ... TO` parquet files), against the same
raw DuckDB CTAS chain as for `--store duckdb`.

    python -m benchmarks.tiny_tasks [--store duckdb|postgres|parquet] [--quick] [--save]
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import _common as c

TARGET_FRESH_MS = 10.0
TARGET_CACHED_MS = 3.0

_SOURCE_ROWS = 10


def source_sql() -> str:
    values = ", ".join(f"({i}, {i / 7:.4f}, 's{i % 13}')" for i in range(_SOURCE_ROWS))
    return (
        "SELECT CAST(id AS BIGINT) AS id, CAST(v AS DOUBLE PRECISION) AS v, s "
        f"FROM (VALUES {values}) AS src(id, v, s)"
    )


def task_names(n_stages: int, per_stage: int) -> list[tuple[str, str]]:
    """(stage, task) for every task, in chain order; the first one is the source."""
    return [(f"s{s}", f"t{s}_{i:02d}") for s in range(n_stages) for i in range(per_stage)]


VARIANTS = ("ibis", "sql", "sqlalchemy")
PRINTED = ("ibis", "sqlalchemy")
"""The variants whose profiles are printed (all go to the results file with `--save`)."""


def build_flow(variant: str, n_stages: int, per_stage: int) -> Any:
    import ibis
    import sqlalchemy as sa

    from tabledag import Flow, Stage, materialize

    @materialize(lazy=True)
    def source() -> str:
        return source_sql()

    if variant == "ibis":

        @materialize(lazy=True, input_type=ibis.Table)
        def step(t: Any) -> Any:
            return t.filter(t.v > -1.0).select("id", "v", "s")

    elif variant == "sql":

        @materialize(lazy=True, input_type=str)
        def step(t: str) -> str:
            return f"SELECT id, v, s FROM {t} WHERE v > -1.0"

    elif variant == "sqlalchemy":

        @materialize(lazy=True, input_type=sa.Table)
        def step(t: sa.Table) -> Any:
            return sa.select(t.c.id, t.c.v, t.c.s).where(t.c.v > -1.0)

    else:
        raise ValueError(f"unknown variant {variant!r} (one of {', '.join(VARIANTS)})")

    with Flow(f"tiny_{variant}") as flow:
        previous = None
        stages: dict[str, list[str]] = {}
        for stage, name in task_names(n_stages, per_stage):
            stages.setdefault(stage, []).append(name)
        for stage, names in stages.items():
            with Stage(stage):
                for name in names:
                    task = source if previous is None else step
                    args = () if previous is None else (previous,)
                    previous = task.with_name(name)(*args)
    return flow


def raw_statements(n_stages: int, per_stage: int) -> list[str]:
    names = task_names(n_stages, per_stage)
    statements = [f'CREATE SCHEMA "s{s}"' for s in range(n_stages)]
    previous = None
    for stage, name in names:
        query = (
            source_sql()
            if previous is None
            else f'SELECT id, v, s FROM "{previous[0]}"."{previous[1]}" WHERE v > -1.0'
        )
        statements.append(f'CREATE TABLE "{stage}"."{name}" AS {query}')
        previous = (stage, name)
    return statements


def run_raw(kind: str, raw_url: str, statements: list[str]) -> None:
    if kind == "duckdb":
        import duckdb

        con = duckdb.connect(raw_url)
        for sql in statements:
            con.execute(sql)
        con.close()
    else:
        import psycopg2

        con = psycopg2.connect(raw_url)
        con.autocommit = True
        with con.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
        con.close()


def _check(result: Any, expect: set[str], what: str) -> None:
    if result.exception is not None:
        raise RuntimeError(f"{what}: the flow failed: {result.exception}") from result.exception
    states = {s.name for s in result.states.values()}
    if not states <= expect:
        raise RuntimeError(f"{what}: unexpected task states {sorted(states)} (wanted {expect})")


BREAKDOWN: list[tuple[str, str, str]] = [
    # (label, path fragment, function name); the outermost matching function counts. Store
    # functions match anywhere under tabledag/stores/ (the session, the store and its parts).
    ("flow.run, total", "tabledag/core/run.py", "run_flow"),
    ("  connect", "tabledag/stores/sql/dialects/", "connect"),
    ("  metadata setup (CREATE ... IF NOT EXISTS)", "tabledag/stores/", "setup"),
    ("  stage start: read metadata, list tables", "tabledag/stores/", "begin_stage"),
    ("  run one task (x tasks)", "tabledag/core/execute.py", "execute_task"),
    ("    inputs: session.retrieve", "tabledag/stores/", "retrieve"),
    ("      ibis table building (IbisTableHook.retrieve)", "tabledag/hooks/ibis.py", "retrieve"),
    ("        ibis backend creation (session.ibis)", "tabledag/stores/", "ibis"),
    ("      sa.Table building (SQLAlchemyTableHook.retrieve)", "hooks/sqlalchemy.py", "retrieve"),
    ("      input column types (session.column_types)", "tabledag/stores/", "column_types"),
    ("    the task function (builds the query)", "benchmarks/tiny_tasks.py", "step"),
    ("    output: session.materialize (the output's hook)", "tabledag/stores/", "materialize"),
    ("      ibis hook (IbisTableHook.materialize)", "tabledag/hooks/ibis.py", "materialize"),
    ("        ibis fingerprint", "tabledag/hooks/ibis_fingerprint.py", "fingerprint"),
    ("        memtable check (_has_memtable)", "tabledag/hooks/ibis.py", "_has_memtable"),
    ("      SQLAlchemy -> sqlglot (_to_sqlglot)", "tabledag/hooks/sqlalchemy.py", "_to_sqlglot"),
    ("        SQLAlchemy compile (ClauseElement.compile)", "sqlalchemy/sql/elements.py", "compile"),
    ("      parse SQL text (session.parse_sql)", "tabledag/stores/", "parse_sql"),
    ("      sqlglot parsing (parse_one, every caller)", "sqlglot/__init__.py", "parse_one"),
    ("    output: session.write", "tabledag/stores/", "write"),
    ("      ibis -> sqlglot (tabledag _compile)", "tabledag/hooks/ibis.py", "_compile"),
    ("        ibis compiler (to_sqlglot)", "ibis/backends/sql/compilers/", "to_sqlglot"),
    ("      canonical SQL", "tabledag/cache/canonical_sql.py", "canonical_sql"),
    ("      cache key (stable_hash)", "tabledag/cache/hashing.py", "stable_hash"),
    ("      CREATE TABLE AS etc. (session._write)", "tabledag/stores/", "_write"),
    ("  stage commit (commit_stage)", "tabledag/stores/", "commit_stage"),
    ("    parquet: write the manifest (ParquetFiles.committed)", "stores/parquet/", "committed"),
    ("parquet: adopt manifests (sync)", "tabledag/stores/parquet/sync.py", "sync"),
    ("parquet: list a stage's files (ParquetFiles.present)", "stores/parquet/", "present"),
    ("  drop old tables (collect_garbage)", "tabledag/stores/", "collect_garbage"),
    ("  close (session.close)", "tabledag/stores/", "close"),
    (
        "    ibis backend disconnect (DuckDB: closes the connection, checkpoint)",
        "ibis/backends/sql/__init__.py",
        "disconnect",
    ),
    (
        "catalogue column queries (_catalogue_columns: inputs, commit)",
        "tabledag/stores/",
        "_catalogue_columns",
    ),
    ("all SQL: session.execute", "tabledag/stores/", "execute"),
    ("  in the driver (Connection.execute)", "tabledag/stores/sql/dialects/", "execute"),
    ("  rendering sqlglot trees (Dialect.render)", "tabledag/stores/sql/dialect.py", "render"),
]


def breakdown(stats: pstats.Stats, n_tasks: int) -> str:
    """Inclusive time of the tabledag functions that matter, per run and per task."""
    entries = stats.stats  # type: ignore[attr-defined]
    total = None
    rows = []
    for label, fragment, func in BREAKDOWN:
        matches = [
            (ct, nc)
            for (path, _, name), (_, nc, _, ct, _) in entries.items()
            if name == func and fragment in path.replace("\\", "/")
        ]
        if not matches:
            continue
        ct, nc = max(matches)
        total = total or ct
        rows.append([label, str(nc), c.ms(ct), c.ms(ct / n_tasks, 2), f"{ct / total:.0%}"])
    lines = c._aligned(["function (inclusive time)", "calls", "ms", "ms/task", "% of run"], rows)
    return "\n".join(lines)


def profile(
    target: c.Target,
    flows: dict[str, Any],
    n_tasks: int,
    top_print: int = 8,
    top_file: int = 15,
    save: bool = False,
) -> list[str]:
    """Profile a fresh run, a cached rerun, a cached rerun with a new store object (in this
    process) and a cached rerun in a new process, per variant; write everything to the results
    file if `save` and return what to print (the fresh and cached runs of the ibis variant, and
    where the time goes in those of the SQLAlchemy variant)."""
    from tabledag import Config

    text_file, printed = [], []
    note = "under cProfile, which inflates Python-heavy parts"

    def add(variant: str, label: str, stats_source: Any, print_it: bool) -> None:
        table = breakdown(pstats.Stats(stats_source), n_tasks)
        text_file.append(f"#### {variant} variant, {label}: where the time goes ({note})\n{table}")
        for sort, top in (("cumulative", top_file), ("tottime", 25)):
            stream = io.StringIO()
            pstats.Stats(stats_source, stream=stream).sort_stats(sort).print_stats(top)
            text_file.append(
                f"#### {variant} variant, {label}: top {top} by {sort} time\n"
                f"{_trim(stream.getvalue())}"
            )
        if print_it and variant == "ibis":
            stream = io.StringIO()
            pstats.Stats(stats_source, stream=stream).sort_stats("cumulative").print_stats(
                top_print
            )
            printed.append(
                f"{label} ({variant} variant, {target.kind}), top {top_print} by cumulative "
                f"time:\n{_trim(stream.getvalue())}"
            )
        if print_it:
            printed.append(
                f"{label} ({variant} variant, {target.kind}), where the time goes ({note}):"
                f"\n{table}"
            )

    for variant, flow in flows.items():
        with target.fresh() as db:
            _check(flow.run(config=db.config()), {"COMPLETED", "CACHE_VALID"}, "warm-up")
        with target.fresh() as db:
            config = db.config()
            for label in ("fresh run", "cached rerun", "cached rerun, new store object"):
                if label.endswith("new store object"):
                    config = Config(config.instance_id, config.table_store)
                profiler = cProfile.Profile()
                profiler.enable()
                result = flow.run(config=config)
                profiler.disable()
                _check(result, {"COMPLETED", "CACHE_VALID"}, f"profile {label}")
                add(variant, label, profiler, variant in PRINTED and "store" not in label)
        # the cached rerun as the first run of a new process: one-time costs included
        with target.fresh() as db, tempfile.TemporaryDirectory() as tmp:
            n_stages = len({stage for stage, _ in flow_tasks(flow)})
            per_stage = n_tasks // n_stages
            _child_run(variant, db, n_stages, per_stage, "COMPLETED,CACHE_VALID")
            prof = str(Path(tmp) / "child.prof")
            _child_run(variant, db, n_stages, per_stage, "CACHE_VALID", profile_to=prof)
            add(variant, "cached rerun, new process", prof, variant in PRINTED)
    printed = [b for b in printed if "top" not in b.split("\n")[0] or "new process" not in b]
    suffix = "" if target.kind == "duckdb" else f"_{target.kind}"
    path = c.RESULTS / f"tiny_tasks_profile{suffix}.txt"
    shown = path.relative_to(c.RESULTS.parent.parent)
    if save:
        c.RESULTS.mkdir(exist_ok=True)
        path.write_text("\n\n".join(text_file) + "\n")
        printed.append(f"(full profile: {shown})")
    else:
        printed.append(f"(full profile not written; --save writes it to {shown})")
    return printed


def flow_tasks(flow: Any) -> list[tuple[str, str]]:
    return [(stage.name, call.name) for stage in flow.stages for call in stage.tasks]


def _trim(text: str) -> str:
    """pstats output without its preamble and trailing blank lines."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(line.rstrip() for line in lines[start:] if line.strip())


class _Db:
    """A fresh database that stays alive across the cases of one round (fresh run, then the
    cached reruns); a new fresh run replaces it."""

    def __init__(self, target: c.Target) -> None:
        self.target = target
        self.ctx: Any = None
        self.db: Any = None
        self.config: Any = None

    def renew(self) -> _Db:
        self.close()
        self.ctx = self.target.fresh()
        self.db = self.ctx.__enter__()
        self.config = self.db.config()
        return self

    def close(self) -> None:
        if self.ctx is not None:
            self.ctx.__exit__(None, None, None)
            self.ctx = None


def _child_run(
    variant: str,
    db: c.FreshDb,
    n_stages: int,
    per_stage: int,
    expect: str,
    profile_to: str | None = None,
) -> float:
    """Time one flow.run in a new Python process (imports and declaration not timed); with
    `profile_to`, run it under cProfile and dump the stats there."""
    spec = db.config().table_store
    kind = "duckdb" if db.url.startswith("duckdb") else "postgres"
    run = (
        "result = flow.run(config=config)\n"
        if profile_to is None
        else "import cProfile\nprofiler = cProfile.Profile()\nprofiler.enable()\n"
        "result = flow.run(config=config)\nprofiler.disable()\n"
        f"profiler.dump_stats({profile_to!r})\n"
    )
    code = (
        "import json, sys, time\n"
        "t0 = time.perf_counter()\n"
        f"{_PREIMPORT[kind]}\n"
        f"{_PREIMPORT_VARIANT.get(variant, '')}\n"
        f"{_PREIMPORT_STORE.get(spec['class'], '')}\n"
        "import tabledag.stores.sql\n"
        "from tabledag import Config\n"
        "from benchmarks.tiny_tasks import build_flow, _check\n"
        f"flow = build_flow({variant!r}, {n_stages}, {per_stage})\n"
        f"config = Config('pipeline', json.loads({json.dumps(spec)!r}))\n"
        "t1 = time.perf_counter()\n"
        f"{run}"
        "t2 = time.perf_counter()\n"
        f"_check(result, {set(expect.split(','))!r}, 'child run')\n"
        "print(json.dumps({'run': t2 - t1, 'import': t1 - t0}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child process failed:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    _child_imports.append(out["import"])
    return float(out["run"])


_child_imports: list[float] = []
_PREIMPORT = {
    # the libraries a run imports lazily: their import time is not the run's
    "duckdb": "import duckdb, pyarrow, ibis, sqlglot.dialects.duckdb; ibis.duckdb",
    "postgres": "import psycopg2, pyarrow, ibis, sqlglot.dialects.postgres; ibis.postgres\n"
    "try:\n    import adbc_driver_postgresql.dbapi\nexcept ImportError:\n    pass",
}
_PREIMPORT_STORE = {
    "tabledag.ParquetTableStore": "import fsspec.implementations.local, tabledag.stores.parquet",
}
_PREIMPORT_VARIANT = {
    # SQLAlchemy tasks compile with SQLAlchemy's PostgreSQL dialect on both stores, and sqlglot
    # reads that SQL as postgres
    "sqlalchemy": "import sqlalchemy.dialects.postgresql, sqlglot.dialects.postgres",
}


def body(report: c.Report, target: c.Target, args: Any) -> None:
    from tabledag import Config

    n_stages, per_stage = (2, 10) if args.quick else (5, 40)
    n_tasks = n_stages * per_stage
    reps = args.reps or (2 if args.quick else 7)
    report.params.update(tasks=n_tasks, stages=n_stages, reps=reps, warmup=1)
    statements = raw_statements(n_stages, per_stage)
    flows = {v: build_flow(v, n_stages, per_stage) for v in VARIANTS}

    def raw_setup() -> Any:
        ctx = target.fresh()
        return ctx, ctx.__enter__()

    raw_kind = "postgres" if target.kind == "postgres" else "duckdb"  # parquet: raw DuckDB
    cases = [
        c.Case(
            "raw",
            lambda s: run_raw(raw_kind, s[1].raw_url, statements),
            raw_setup,
            lambda s: s[0].__exit__(None, None, None),
        )
    ]
    dbs: list[_Db] = []
    for variant, flow in flows.items():
        same, child = _Db(target), _Db(target)
        dbs += [same, child]

        def fresh_run(d: _Db, flow: Any = flow, variant: str = variant) -> None:
            # A fresh run must compile: drop what the warm-up compiled (same expressions, same
            # keys, so the in-process compile cache would otherwise serve every task).
            from tabledag.hooks import ibis as ibis_hook

            ibis_hook._compiled.clear()
            _check(flow.run(config=d.config), {"COMPLETED", "CACHE_VALID"}, f"{variant} fresh")

        def cached_run(config: Any, flow: Any = flow, variant: str = variant) -> None:
            _check(flow.run(config=config), {"CACHE_VALID"}, f"{variant} cached")

        def child_run(
            d: _Db, variant: str = variant, expect: str = "COMPLETED,CACHE_VALID"
        ) -> float:
            return _child_run(variant, d.db, n_stages, per_stage, expect)

        cases += [
            c.Case(f"{variant}:fresh", fresh_run, same.renew),
            c.Case(f"{variant}:cached", cached_run, lambda d=same: d.config),
            c.Case(
                f"{variant}:cached_new_store",
                cached_run,
                lambda d=same: Config(d.config.instance_id, d.config.table_store),
            ),
            c.Case(f"{variant}:fresh_process", child_run, child.renew),
            c.Case(
                f"{variant}:cached_process",
                lambda d, v=variant: child_run(d, v, "CACHE_VALID"),
                lambda d=child: d,
            ),
        ]
    try:
        times = c.interleaved(cases, reps)
    finally:
        for d in dbs:
            d.close()

    raw = times["raw"].median
    driver = "psycopg2" if target.kind == "postgres" else "duckdb"
    table = report.section(
        f"whole flow.run, {n_tasks} tasks (median of {reps})",
        [
            "case",
            "total ms",
            "ms/task",
            "spread",
            "best ms/task",
            "vs raw",
            "vs raw (best)",
            "target ms/task",
            "verdict",
        ],
    )
    table.rows.append(
        [
            f"raw CTAS ({driver})",
            c.ms(raw),
            c.ms(raw / n_tasks, 2),
            times["raw"].spread,
            c.ms(times["raw"].best / n_tasks, 2),
            "1.00x",
            "1.00x",
            "",
            "",
        ]
    )
    for variant in flows:
        for kind, label, target_ms in (
            ("fresh", "fresh run", TARGET_FRESH_MS),
            ("fresh_process", "fresh run, new process", TARGET_FRESH_MS),
            ("cached", "cached rerun", TARGET_CACHED_MS),
            ("cached_new_store", "cached rerun, new store object", TARGET_CACHED_MS),
            ("cached_process", "cached rerun, new process", TARGET_CACHED_MS),
        ):
            t = times[f"{variant}:{kind}"]
            per = t.median / n_tasks
            table.rows.append(
                [
                    f"{variant}: {label}",
                    c.ms(t.median),
                    c.ms(per, 2),
                    t.spread,
                    c.ms(t.best / n_tasks, 2),
                    c.ratio(t.median / raw),
                    c.ratio(t.best / times["raw"].best),
                    f"<= {target_ms:g}",
                    c.verdict(per * 1e3 <= target_ms),
                ]
            )
    report.notes += [
        "vs raw = tabledag time / raw time (lower is better); ms/task = total / number of tasks; "
        "spread = min/max around the median; best = the fastest repetition (less sensitive to "
        "other load on the machine); verdicts use medians",
        "fresh run / cached rerun: the same process ran the flow before (in-process caches "
        "warm); new store object: a new Config, as a second config in the same process; "
        "new process: the first flow.run in a new Python process (cold in-process caches); "
        "importing the libraries (duckdb/psycopg2, pyarrow, ibis, sqlglot, SQLAlchemy, tabledag) "
        "and declaring the flow are not timed (they took "
        f"{statistics.median(_child_imports) * 1e3:.0f} ms there)",
    ]
    report.blocks += profile(target, flows, n_tasks, save=args.save)


def main(argv: list[str] | None = None) -> int:
    args = c.parser(__doc__.splitlines()[0], ("duckdb", "postgres", "parquet")).parse_args(argv)
    c.silence_tabledag_logging()
    return c.main_wrapper("tiny_tasks", args, lambda r, t: body(r, t, args), {})


if __name__ == "__main__":
    raise SystemExit(main())
