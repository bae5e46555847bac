"""TPC-H on one store: the tabledag flow against its raw ceiling, round after round.

Each round, on fresh instances: the raw ceiling (the 8 tables loaded with their keys, the same
22 SQL texts written as tables directly, lineitem read back), then the tabledag flow fresh
(stage times are the summed task durations), then the fully cached rerun of the whole flow,
then `Result.get(lineitem)` and a task taking lineitem as a `pa.Table` input.

    python -m benchmarks.tpch.bench --store duckdb --sf 0.1 [--reps 2] [--json out.json]

Figures are written as `benchmarks.figures` records (see there).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import figures as fig
from ..stores import KEYED, BenchStore
from . import data, queries_sql
from . import flow as tpch_flow


def _progress(message: str) -> None:
    print(f"  [tpch] {message}", flush=True)


def raw_round(instance: Any, frames: dict[str, Any]) -> dict[str, float]:
    raw = instance.raw
    keyed = instance.kind in KEYED
    out: dict[str, float] = {}
    gc.collect()
    t0 = time.perf_counter()
    raw.open()
    for name, table in frames.items():
        raw.load(name, table, data.KEYS[name] if keyed else None)
    out["load"] = time.perf_counter() - t0
    refs = {t: raw.table_ref(t) for t in frames}
    t0 = time.perf_counter()
    for q in queries_sql.QUERIES:
        raw.query(q, queries_sql.render(q, refs))
    out["queries"] = time.perf_counter() - t0
    gc.collect()
    t0 = time.perf_counter()
    table = raw.read("lineitem")
    out["read"] = time.perf_counter() - t0
    assert table.num_rows == frames["lineitem"].num_rows
    raw.close()
    return out


def tabledag_round(instance: Any, frames: dict[str, Any], sf: float) -> dict[str, float]:
    import pyarrow as pa

    from tabledag import Flow, Stage, materialize

    flow = tpch_flow.build(frames, sf)
    config = instance.config()
    out: dict[str, float] = {}
    gc.collect()
    t0 = time.perf_counter()
    result = flow.run(config=config)
    out["run_fresh"] = time.perf_counter() - t0
    if not result.successful:
        raise RuntimeError(f"the TPC-H flow failed on {instance.kind}: {result.exception}")
    for stage in tpch_flow.STAGES:
        out[stage] = tpch_flow.stage_seconds(result, stage)
    for call, seconds in result.durations.items():
        if call.stage.name == "tpch_sql":
            out[f"sql_{call.name}"] = seconds
    result.close()
    gc.collect()
    t0 = time.perf_counter()
    cached = flow.run(config=config)
    out["run_cached"] = time.perf_counter() - t0
    states = {s.name for s in cached.states.values()}
    if not cached.successful or states != {"CACHE_VALID"}:
        raise RuntimeError(f"the cached rerun on {instance.kind} was not all cache hits: {states}")
    gc.collect()
    t0 = time.perf_counter()
    table = cached.get("tpch_raw.lineitem", as_type=pa.Table)
    out["get"] = time.perf_counter() - t0
    assert table.num_rows == frames["lineitem"].num_rows
    cached.close()

    @materialize(input_type=pa.Table)
    def count_rows(t: Any) -> dict[str, int]:
        return {"rows": t.num_rows}

    reader = Flow("tpch")  # the same flow name: its tpch_raw stage is the one just written
    with reader:
        with Stage("tpch_raw"):
            raw = {t: tpch_flow.load.with_name(t)(t, f"{sf:g}") for t in data.TABLES}
        with Stage("tpch_read"):
            count_rows(raw["lineitem"])
    read = reader.run(config=config)
    out["task_input"] = sum(d for c, d in read.durations.items() if c.stage.name == "tpch_read")
    read.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True)
    p.add_argument("--sf", type=float, default=0.1)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    c_fig = fig.Collector()
    with tempfile.TemporaryDirectory(prefix="tabledag_tpch_") as tmp:
        store = BenchStore(args.store, Path(tmp))
        try:
            problem = store.check()
            if problem:
                c_fig.skip("tpch", args.store, problem)
                _progress(f"{args.store}: skipped ({problem})")
            else:
                run(store, args.sf, args.reps, c_fig)
        finally:
            store.close()
    c_fig.write(args.json)
    return 0


def run(store: BenchStore, sf: float, reps: int, out: fig.Collector) -> None:
    t0 = time.perf_counter()
    frames = data.tables(sf)
    _progress(f"{store.kind}: SF {sf:g} read ({frames['lineitem'].num_rows} lineitem rows)")
    raws: list[dict[str, float]] = []
    ours: list[dict[str, float]] = []
    for rep in range(reps):
        with store.fresh() as instance:
            raws.append(raw_round(instance, frames))
        with store.fresh() as instance:
            ours.append(tabledag_round(instance, frames, sf))
        _progress(
            f"{store.kind}: round {rep + 1}/{reps}: flow {ours[-1]['run_fresh']:.2f} s, "
            f"cached {ours[-1]['run_cached'] * 1e3:.0f} ms, raw load+queries "
            f"{raws[-1]['load'] + raws[-1]['queries']:.2f} s"
        )

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    kind = store.kind
    raw_load = {"duckdb": "CREATE TABLE AS from Arrow + keys", "postgres": "ADBC ingest + keys"}
    load_ceiling = raw_load.get(kind, fig.LOAD_CEILINGS.get(kind, "raw load"))
    common = {"part": "tpch", "store": kind, "tool": "tabledag", "sf": sf, "reps": reps}
    out.add(
        **common,
        name="load 8 tables",
        seconds=med(ours, "tpch_raw"),
        ceiling=load_ceiling,
        ceiling_seconds=med(raws, "load"),
        target=fig.TARGET_LOAD,
    )
    for stage, label in (("tpch_sql", "22 queries, SQL text"), ("tpch_ibis", "22 queries, ibis")):
        out.add(
            **common,
            name=label,
            seconds=med(ours, stage),
            ceiling="the 22 SQL texts sent directly",
            ceiling_seconds=med(raws, "queries"),
            target=fig.TARGET_QUERIES,
        )
    out.add(
        **common,
        name="Result.get(lineitem)",
        seconds=med(ours, "get"),
        ceiling=fig.READ_CEILINGS.get(kind, "raw read"),
        ceiling_seconds=med(raws, "read"),
        target=fig.TARGET_READ,
    )
    out.add(
        **common,
        name="lineitem as task input",
        seconds=med(ours, "task_input"),
        ceiling=fig.READ_CEILINGS.get(kind, "raw read"),
        ceiling_seconds=med(raws, "read"),
        target=fig.TARGET_READ,
    )
    out.add(
        **common,
        name="cached rerun, whole flow",
        seconds=med(ours, "run_cached"),
        target=fig.TARGET_CACHED_FLOW,
    )
    out.add(
        **common,
        name="fresh run, whole flow",
        seconds=med(ours, "run_fresh"),
        ceiling="raw load + 22 queries",
        ceiling_seconds=med(raws, "load") + med(raws, "queries"),
    )
    out.extra.setdefault("tpch_per_query", {})[kind] = {
        q: med(ours, f"sql_{q}") for q in queries_sql.QUERIES
    }
    _progress(f"{kind}: done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
