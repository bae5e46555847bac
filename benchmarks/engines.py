"""Engines: wall time of independent tasks waiting in the database, and the per-task cost of
scheduling, under each engine.

1. **Sleep flow** (Postgres): 40 independent lazy tasks, each a `CREATE TABLE AS` whose query
   waits 0.5 s in the server (`pg_sleep`). Reported: wall time per engine, its speed-up over
   the sequential engine, and its share of the ideal speed-up (total work / workers).
   Target: at least 0.8x the ideal.
2. **Chain of tiny tasks** (DuckDB for threads; Postgres for every engine): 200 SQL-text
   tasks in 5 stages of 40, each reading the one before (so nothing can run at once): the
   engine's time minus the sequential engine's, per task, is what scheduling on it costs.
   Targets: at most 1 ms per task under threads and 10 ms under Dask.

Usage:
    python -m benchmarks.engines [--store postgres|duckdb] [--quick] [--reps N] [--json PATH]

Each repetition runs on a fresh database; the engines take turns within a repetition.
Workers in other processes (ProcessEngine, DaskEngine) need the tasks importable: they are
module-level functions here. Worker pools and the Dask cluster start outside the timing only
for Dask (a `LocalCluster` the runs share); process pools start inside each run, as a user
would see them.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from tabledag import Flow, Stage, materialize

from . import _common as c

SLEEP_S = 0.5
TARGET_IDEAL = 0.8
TARGET_THREADS_MS = 1.0
TARGET_DASK_MS = 10.0


@materialize(lazy=True)
def sleeper(i: int) -> str:
    return f"SELECT {i} AS i FROM (SELECT pg_sleep({SLEEP_S})) AS wait"


@materialize(lazy=True)
def source() -> str:
    return "SELECT * FROM (VALUES (1, 0.5), (2, 1.5), (3, 2.5)) AS src(id, v)"


@materialize(lazy=True, input_type=str)
def step(t: str) -> str:
    return f"SELECT id, v FROM {t} WHERE v > -1.0"


def noop(x: int) -> int:
    return x


def dask_round_trips(address: str, n: int, reps: int) -> float:
    """The raw ceiling for Dask: seconds for `n` chained no-op submit -> result round trips
    on the same cluster (what any task costs on Dask before it does anything)."""
    import distributed

    samples = []
    with distributed.Client(address) as client:
        for rep in range(reps + 1):
            started, x = time.perf_counter(), 0
            for _ in range(n):
                x = client.submit(noop, x + 1, pure=False).result()
            if rep:
                samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def sleep_flow(n: int) -> Flow:
    with Flow("sleepers") as flow, Stage("waits"):
        for i in range(n):
            sleeper.with_name(f"w{i:02d}")(i)
    return flow


def chain_flow(n_stages: int, per_stage: int) -> Flow:
    with Flow("chain") as flow:
        previous = None
        for s in range(n_stages):
            with Stage(f"s{s}"):
                for i in range(per_stage):
                    name = f"t{s}_{i:02d}"
                    previous = (
                        source.with_name(name)()
                        if previous is None
                        else step.with_name(name)(previous)
                    )
    return flow


def engines(kind: str, workers: int, dask_address: str | None) -> dict[str, Any]:
    from tabledag import ProcessEngine, SequentialEngine, ThreadEngine

    chosen: dict[str, Any] = {
        "sequential": SequentialEngine(),
        f"threads({workers})": ThreadEngine(workers),
    }
    if kind == "postgres":
        chosen[f"processes({workers})"] = ProcessEngine(workers)
        if dask_address is not None:
            from tabledag import DaskEngine

            chosen[f"dask({workers} workers)"] = DaskEngine(dask_address)
    return chosen


def start_dask(workers: int) -> Any:
    try:
        import distributed
    except ImportError:
        return None
    return distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )


def timed_runs(
    target: c.Target, flow: Flow, chosen: dict[str, Any], reps: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in chosen}
    for rep in range(reps + 1):  # the first round warms up
        for name, engine in chosen.items():
            with target.fresh() as db:
                config = db.config()
                started = time.perf_counter()
                result = flow.run(config, engine=engine)
                elapsed = time.perf_counter() - started
                if not result.successful:
                    raise RuntimeError(f"{name}: the flow failed: {result.exception}")
                if rep:
                    times[name].append(elapsed)
    return times


def body(report: c.Report, target: c.Target, args: Any) -> None:
    c.silence_tabledag_logging()
    workers = 2
    reps = args.reps or (1 if args.quick else 3)
    n_sleep = 8 if args.quick else 40
    n_stages, per_stage = (2, 10) if args.quick else (5, 40)
    cluster = start_dask(workers) if target.kind == "postgres" else None
    try:
        chosen = engines(target.kind, workers, cluster.scheduler_address if cluster else None)
        if target.kind == "postgres":
            times = timed_runs(target, sleep_flow(n_sleep), chosen, reps)
            work = n_sleep * SLEEP_S
            sequential = statistics.median(times["sequential"])
            section = report.section(
                f"{n_sleep} independent tasks waiting {SLEEP_S}s each in Postgres "
                f"({work:.0f}s of work)",
                [
                    "engine",
                    "wall s",
                    "speed-up vs sequential",
                    "ideal",
                    "share of ideal",
                    "target",
                    "verdict",
                ],
            )
            for name, samples in times.items():
                wall = statistics.median(samples)
                ideal = 1 if name == "sequential" else workers
                share = (sequential / wall) / ideal
                ok = name == "sequential" or share >= TARGET_IDEAL
                section.rows.append(
                    [
                        name,
                        f"{wall:.2f}",
                        c.ratio(sequential / wall),
                        f"{ideal}x",
                        c.ratio(share),
                        "" if name == "sequential" else f">= {TARGET_IDEAL}",
                        "" if name == "sequential" else c.verdict(ok),
                    ]
                )
        n_tasks = n_stages * per_stage
        times = timed_runs(target, chain_flow(n_stages, per_stage), chosen, reps)
        sequential = statistics.median(times["sequential"])
        section = report.section(
            f"chain of {n_tasks} tiny SQL-text tasks (fresh database; nothing can run at once)",
            ["engine", "wall s", "ms per task", "scheduling ms per task", "target", "verdict"],
        )
        if cluster is not None:
            floor = dask_round_trips(cluster.scheduler_address, n_tasks, reps)
            section.rows.append(
                [
                    f"raw dask: {n_tasks} chained no-op round trips",
                    f"{floor:.2f}",
                    f"{floor / n_tasks * 1e3:.1f}",
                    "",
                    "",
                    "",
                ]
            )
        for name, samples in times.items():
            wall = statistics.median(samples)
            extra = (wall - sequential) / n_tasks * 1e3
            limit = (
                TARGET_THREADS_MS
                if name.startswith("threads")
                else TARGET_DASK_MS
                if name.startswith("dask")
                else None
            )
            section.rows.append(
                [
                    name,
                    f"{wall:.2f}",
                    f"{wall / n_tasks * 1e3:.1f}",
                    "" if name == "sequential" else f"{extra:+.2f}",
                    "" if limit is None else f"<= {limit:g}",
                    "" if limit is None else c.verdict(extra <= limit),
                ]
            )
        report.notes.append(
            "share of ideal = (sequential wall / engine wall) / workers; scheduling ms per task = "
            "(engine wall - sequential wall) / tasks, on a chain where no two tasks can overlap"
        )
        if cluster is not None:
            report.notes.append(
                "raw dask = Dask's own latency on this machine (client.submit(noop).result() in a "
                "chain, same cluster, same run); tabledag's dask scheduling cost includes it"
            )
        report.notes.append(
            "processes: each run starts its pool (spawn) and every worker rebuilds the store and "
            "connects, inside the timing; dask: the LocalCluster is started once, outside it"
        )
    finally:
        if cluster is not None:
            cluster.close()


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__.splitlines()[0], stores=("postgres", "duckdb"))
    args = p.parse_args(argv)
    return c.main_wrapper("engines", args, lambda r, t: body(r, t, args), {"workers": 2})


if __name__ == "__main__":
    raise SystemExit(main())
