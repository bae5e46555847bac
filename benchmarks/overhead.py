"""Orchestration overhead on one store: the 200-tiny-task chain of `tiny_tasks` for each lazy
kind (ibis, SQL text, SQLAlchemy), the fixed cost of a run and a cold process's first task.

Chain (5 stages of 40, each task a filter of the previous one; raw ceiling: the same 200
`CREATE TABLE AS` sent directly, on a fresh instance): fresh run on a fresh instance (in-process
compile caches emptied), fully cached rerun, rerun after one change (the middle task's
filter constant: it and the tasks after it run again), and a fresh run under the thread engine.

Fixed cost: a one-task flow (`SELECT 1`) on a fresh instance against a raw connect + CREATE
SCHEMA + CREATE TABLE AS + close. Cold first task: a new Python process that imports tabledag,
declares that flow and runs it; the time from spawning the process to `flow.run` returning
(interpreter start and imports included).

    python -m benchmarks.overhead --store duckdb [--reps 3] [--tasks 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import figures as fig
from .stores import BenchStore
from .tiny_tasks import VARIANTS, raw_statements, source_sql


def changed_at(tasks: int) -> int:
    """The task whose filter changes in the one-change rerun (0-based): the middle one."""
    return tasks // 2


def _progress(message: str) -> None:
    print(f"  [overhead] {message}", flush=True)


def build_chain(variant: str, n_stages: int, per_stage: int, changed: bool) -> Any:
    import ibis
    import sqlalchemy as sa

    from tabledag import Flow, Stage, materialize

    @materialize(lazy=True)
    def source() -> str:
        return source_sql()

    if variant == "ibis":

        @materialize(lazy=True, input_type=ibis.Table)
        def step(t: Any, low: float) -> Any:
            return t.filter(t.v > low).select("id", "v", "s")

    elif variant == "sql":

        @materialize(lazy=True, input_type=str)
        def step(t: str, low: float) -> str:
            return f"SELECT id, v, s FROM {t} WHERE v > {low}"

    else:

        @materialize(lazy=True, input_type=sa.Table)
        def step(t: sa.Table, low: float) -> Any:
            return sa.select(t.c.id, t.c.v, t.c.s).where(t.c.v > low)

    with Flow(f"tiny_{variant}") as flow:
        previous = None
        n = 0
        for s in range(n_stages):
            with Stage(f"s{s}"):
                for i in range(per_stage):
                    name = f"t{s}_{i:02d}"
                    if previous is None:
                        previous = source.with_name(name)()
                    else:
                        low = -2.0 if changed and n == changed_at(n_stages * per_stage) else -1.0
                        previous = step.with_name(name)(previous, low)
                    n += 1
    return flow


def _clear_compile_caches() -> None:
    """Empty tabledag's in-process ibis compile memo, so a fresh run compiles (as a new
    process would)."""
    try:
        from tabledag.hooks import ibis as ibis_hook

        ibis_hook._compiled.clear()
    except Exception:
        pass


def _timed(fn: Any) -> tuple[float, Any]:
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _ok(result: Any, what: str, expect: set[str] | None = None) -> None:
    if not result.successful:
        raise RuntimeError(f"{what}: the flow failed: {result.exception}")
    states = {s.name for s in result.states.values()}
    if expect is not None and not states <= expect:
        raise RuntimeError(f"{what}: task states {sorted(states)}, expected {sorted(expect)}")


def chain_round(store: BenchStore, variant: str, n_stages: int, per_stage: int) -> dict:
    flow = build_chain(variant, n_stages, per_stage, changed=False)
    changed = build_chain(variant, n_stages, per_stage, changed=True)
    out: dict[str, float] = {}
    with store.fresh() as instance:
        raw = instance.raw
        statements = raw_statements(n_stages, per_stage)

        def run_raw() -> None:
            raw.open()
            raw.statements(statements)
            raw.close()

        out["raw"], _ = _timed(run_raw)
    with store.fresh() as instance:
        config = instance.config()
        _clear_compile_caches()
        out["fresh"], r = _timed(lambda: flow.run(config=config))
        _ok(r, f"{variant} fresh")
        out["cached"], r = _timed(lambda: flow.run(config=config))
        _ok(r, f"{variant} cached", {"CACHE_VALID"})
        out["one_change"], r = _timed(lambda: changed.run(config=config))
        _ok(r, f"{variant} one change")
    if store.kind != "memory":  # (an Arrow store's Config is one store object, one session)
        with store.fresh() as instance:
            config = instance.config(orchestration={"class": "threads", "args": {"max_workers": 2}})
            _clear_compile_caches()
            out["threads"], r = _timed(lambda: flow.run(config=config))
            _ok(r, f"{variant} threads")
    return out


def fixed_round(store: BenchStore) -> dict[str, float]:
    from tabledag import Flow, Stage, materialize

    @materialize(lazy=True)
    def one() -> str:
        return "SELECT 1 AS x"

    with Flow("fixed") as flow, Stage("s0"):
        one()
    out: dict[str, float] = {}
    with store.fresh() as instance:
        raw = instance.raw

        def run_raw() -> None:
            raw.open()
            raw.statements(['CREATE SCHEMA "s0"', 'CREATE TABLE "s0"."one" AS SELECT 1 AS x'])
            raw.close()

        out["raw"], _ = _timed(run_raw)
    with store.fresh() as instance:
        config = instance.config()
        out["fresh"], r = _timed(lambda: flow.run(config=config))
        _ok(r, "one-task flow")
        out["cached"], r = _timed(lambda: flow.run(config=config))
        _ok(r, "one-task flow, cached", {"CACHE_VALID"})
    return out


COLD_SCRIPT = """
import sys, time
from tabledag import Config, Flow, Stage, create_basic_config, materialize

@materialize(lazy=True)
def one():
    return "SELECT 1 AS x"

with Flow("cold") as flow, Stage("s0"):
    one()
kind, arg = sys.argv[1], sys.argv[2]
if kind == "duckdb":
    config = create_basic_config(arg)
elif kind == "postgres":
    config = create_basic_config(arg)
else:
    config = Config("pipeline", {"class": "tabledag.ArrowTableStore", "args": {}})
result = flow.run(config=config)
done = time.time()
assert result.successful, result.exception
print(done)
"""


def cold_round(store: BenchStore) -> float | None:
    """Spawn-to-first-finished-task of a new process (DuckDB, Postgres, memory only)."""
    if store.kind not in ("duckdb", "postgres", "memory"):
        return None
    with store.fresh() as instance:
        url = getattr(instance.config().store, "url", "")
        arg = url if store.kind != "memory" else "-"
        started = time.time()
        proc = subprocess.run(
            [sys.executable, "-c", COLD_SCRIPT, store.kind, arg],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(proc.stdout.strip().splitlines()[-1]) - started


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--tasks", type=int, default=200, help="chain length (a multiple of 5)")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    out = fig.Collector()
    with tempfile.TemporaryDirectory(prefix="tabledag_overhead_") as tmp:
        store = BenchStore(args.store, Path(tmp))
        try:
            problem = store.check()
            if problem:
                out.skip("overhead", args.store, problem)
                _progress(f"{args.store}: skipped ({problem})")
            else:
                run(store, args.reps, args.tasks, args.variants.split(","), out)
        finally:
            store.close()
    out.write(args.json)
    return 0


def run(store: BenchStore, reps: int, tasks: int, variants: list[str], out: fig.Collector) -> None:
    kind = store.kind
    per_stage = tasks // 5
    t_start = time.perf_counter()
    for variant in variants:
        chain_round(store, variant, 5, 2)  # warm-up: imports, first connections
        rounds = [chain_round(store, variant, 5, per_stage) for _ in range(reps)]
        med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        _progress(
            f"{kind}/{variant}: fresh {med['fresh'] / tasks * 1e3:.2f} ms/task, cached "
            f"{med['cached'] / tasks * 1e3:.2f}, one change {med['one_change']:.2f} s, raw "
            f"{med['raw'] / tasks * 1e3:.2f} ms/task"
        )
        common = {"part": "overhead", "store": kind, "variant": variant, "count": tasks}
        raw = {"ceiling": f"{tasks} CREATE TABLE AS sent directly", "ceiling_seconds": med["raw"]}
        out.add(**common, name=f"{variant}: fresh", seconds=med["fresh"], **raw,
                target=fig.TARGET_TINY_FRESH)  # fmt: skip
        out.add(**common, name=f"{variant}: cached", seconds=med["cached"], **raw,
                target=fig.TARGET_TINY_CACHED)  # fmt: skip
        out.add(**common, name=f"{variant}: one change", seconds=med["one_change"], **raw,
                note=f"tasks {changed_at(tasks)}..{tasks - 1} run again")  # fmt: skip
        if "threads" in med:
            out.add(**common, name=f"{variant}: fresh, threads", seconds=med["threads"], **raw,
                    target=fig.TARGET_TINY_FRESH)  # fmt: skip
    fixed = [fixed_round(store) for _ in range(reps + 1)][1:]
    fmed = {k: statistics.median(r[k] for r in fixed) for k in fixed[0]}
    out.add(
        part="fixed",
        store=kind,
        name="one-task run, fixed cost over raw",
        seconds=fmed["fresh"] - fmed["raw"],
        tabledag_seconds=fmed["fresh"],
        raw_seconds=fmed["raw"],
        target=fig.TARGET_FIXED,
    )
    out.add(part="fixed", store=kind, name="one-task run, cached", seconds=fmed["cached"])
    colds = [cold_round(store) for _ in range(reps)]
    if colds[0] is not None:
        out.add(
            part="fixed",
            store=kind,
            name="cold process to first finished task",
            seconds=statistics.median(c for c in colds if c is not None),
            target=fig.TARGET_COLD,
        )
    _progress(
        f"{kind}: fixed cost {(fmed['fresh'] - fmed['raw']) * 1e3:.1f} ms over raw; done in "
        f"{time.perf_counter() - t_start:.0f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
