"""The benchmark run: TPC-H as a flow and the orchestration overhead on every store, the peers
(pydiverse-pipedag, SQLMesh, dbt) on the same work, each against its raw ceiling in the same run.

    python -m benchmarks [--sf 0.1] [--stores duckdb,postgres,...] [--parts tpch,overhead,peers]
                         [--reps 2] [--peers pipedag,sqlmesh,dbt] [--quick] [--save]

Every part runs per store in a process of its own and prints its progress. The parts that need
another environment run through nox sessions (noxfile.py): Snowflake through fakesnow
(`bench_snowflake`: fakesnow pins its own duckdb and sqlglot) and each peer
(`bench_peer-pipedag`, `bench_peer-sqlmesh`, `bench_peer-dbt`: a venv each). `--python
NAME=PATH` runs part NAME (snowflake, pipedag, sqlmesh, dbt) with that interpreter instead.
With `--save` the figures go to `benchmarks/results/<date>-<machine>.json` and
`benchmarks/RESULTS.md` and the plots are generated from them (`python -m benchmarks.report
FILE` does that alone); without it nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import figures as fig
from .stores import KINDS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PARTS = ("tpch", "overhead", "peers")
PEERS = ("pipedag", "sqlmesh", "dbt")
PEER_STORES = ("duckdb", "postgres")
SLOW_STORES = ("parquet_s3", "snowflake")
SLOW_STORE_TASKS = 50
"""moto's and fakesnow's servers answer each request in tens of milliseconds (Python servers on
loopback): their tiny-task chain is 50 tasks long, per-task figures stay comparable."""
PIPEDAG_DUCKDB_TASKS = 50
"""pipedag 0.12 takes 0.4-1 s per task on DuckDB (each opens connections and copies cache hits
into the new stage): its DuckDB chain is 50 tasks long, or the run would exceed 20 minutes."""


def versions(python: str = sys.executable) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    names = ("tabledag", "duckdb", "ibis-framework", "sqlglot", "pyarrow", "polars", "pandas")
    for name in (*names, "sqlalchemy", "adbc-driver-postgresql", "tpchgen-cli"):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


def machine() -> dict[str, Any]:
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return {
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "memory": mem,
        "processor": platform.processor(),
    }


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src", "benchmarks"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return rev + (" (uncommitted changes)" if dirty else "")
    except OSError:
        return "?"


_SESSIONS = {
    "snowflake": "bench_snowflake",
    "pipedag": "bench_peer-pipedag",
    "sqlmesh": "bench_peer-sqlmesh",
    "dbt": "bench_peer-dbt",
}


def _nox(session: str, posargs: list[str]) -> list[str]:
    nox = [sys.executable, "-m", "nox"] if _has_nox() else ["nox"]
    return [*nox, "-f", str(ROOT / "noxfile.py"), "-R", "-s", session, "--", *posargs]


def _has_nox() -> bool:
    import importlib.util

    return importlib.util.find_spec("nox") is not None


class Runner:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.collector = fig.Collector()
        self.pythons = dict(p.split("=", 1) for p in args.python)
        self.failures: list[str] = []

    def module(
        self, label: str, module: str, posargs: list[str], env_name: str | None = None
    ) -> None:
        """Run `python -m module posargs --json X` (through nox session `env_name` where the
        part needs its own venv) and merge its figures."""
        out = self.tmp / f"{label.replace('/', '_')}.json"
        args = [*posargs, "--json", str(out)]
        if env_name is None:
            cmd = [sys.executable, "-m", module, *args]
        elif env_name in self.pythons:
            cmd = [self.pythons[env_name], "-m", module, *args]
        else:
            cmd = _nox(_SESSIONS[env_name], [module, *args])
        print(f"\n>> {label}", flush=True)
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, check=False, env=self._env())
        if proc.returncode == 0 and out.exists():
            self.collector.merge(fig.read(out))
        else:
            self.failures.append(label)
            self.collector.skip(label.split("/")[0], label, f"failed (exit {proc.returncode})")
        print(f"<< {label}: {time.perf_counter() - started:.0f} s", flush=True)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")) if p
        )
        return env

    def run(self) -> None:
        a = self.args
        stores = a.stores.split(",")
        for store in stores:
            env = "snowflake" if store == "snowflake" else None
            if "tpch" in a.parts:
                posargs = ["--store", store, "--sf", f"{a.sf:g}", "--reps", str(a.reps)]
                self.module(f"tpch/{store}", "benchmarks.tpch.bench", posargs, env)
            if "overhead" in a.parts:
                tasks = min(a.tasks, SLOW_STORE_TASKS) if store in SLOW_STORES else a.tasks
                posargs = ["--store", store, "--reps", str(a.reps), "--tasks", str(tasks)]
                self.module(f"overhead/{store}", "benchmarks.overhead", posargs, env)
        if "peers" in a.parts:
            data = self.tmp / "frame.parquet"
            from .peers.common import write_frame

            write_frame(data, a.frame_rows)
            for peer in a.peers.split(","):
                for store in PEER_STORES:
                    if store not in stores:
                        continue
                    tasks = min(a.tasks, PIPEDAG_DUCKDB_TASKS) if (peer, store) == (
                        "pipedag",
                        "duckdb",
                    ) else a.tasks  # fmt: skip
                    posargs = ["--store", store, "--tasks", str(tasks), "--frame", str(data)]
                    posargs += ["--reps", "1"]
                    self.module(f"peers/{peer}/{store}", f"benchmarks.peers.{peer}", posargs, peer)
            for store in PEER_STORES:  # tabledag on the very same work, for the same ceiling
                if store in stores:
                    posargs = ["--store", store, "--frame", str(data), "--reps", str(a.reps)]
                    posargs += ["--tasks", str(a.tasks)]
                    self.module(f"peers/tabledag/{store}", "benchmarks.peers.tabledag", posargs)


def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sf", type=float, default=0.1, help="TPC-H scale factor (default 0.1)")
    p.add_argument("--stores", default=",".join(KINDS), help="comma-separated; default: all")
    p.add_argument("--parts", default=",".join(PARTS), help="tpch, overhead, peers")
    p.add_argument("--peers", default=",".join(PEERS))
    p.add_argument("--reps", type=int, default=2, help="timed repetitions per figure")
    p.add_argument("--tasks", type=int, default=200, help="length of the tiny-task chain")
    p.add_argument("--frame-rows", type=int, default=1_000_000, help="the frame load's rows")
    p.add_argument("--quick", action="store_true", help="SF 0.01, 1 repetition, 50 tasks")
    p.add_argument("--python", action="append", default=[], metavar="NAME=PATH")
    p.add_argument("--save", action="store_true", help="write results, RESULTS.md, plots")
    p.add_argument("--out", default=None, help="write the results JSON here (no report)")
    args = p.parse_args(argv)
    if args.quick:
        args.sf, args.reps, args.tasks, args.frame_rows = 0.01, 1, 50, 100_000
    for s in args.stores.split(","):
        if s not in KINDS:
            p.error(f"unknown store {s!r} (one of {', '.join(KINDS)})")
    started = time.perf_counter()
    load_before = _loadavg()
    print(f"benchmarks: SF {args.sf:g}, stores {args.stores}, parts {args.parts}, reps "
          f"{args.reps}; load average {load_before}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="tabledag_bench_") as tmp:
        runner = Runner(args, Path(tmp))
        runner.run()
    wall = time.perf_counter() - started
    now = dt.datetime.now(dt.UTC)
    results = {
        "date": now.isoformat(timespec="seconds"),
        "git": git_revision(),
        "machine": machine(),
        "versions": versions(),
        "scale_factor": args.sf,
        "reps": args.reps,
        "tasks": args.tasks,
        "frame_rows": args.frame_rows,
        "stores": args.stores.split(","),
        "parts": args.parts.split(","),
        "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
        "load_average": {"start": load_before, "end": _loadavg()},
        "wall_seconds": round(wall, 1),
        "failures": runner.failures,
        **runner.collector.as_dict(),
    }
    print(f"\nbenchmarks: done in {wall / 60:.1f} min; failures: {runner.failures or 'none'}")
    _summary(results)
    path: Path | None = Path(args.out) if args.out else None
    if args.save and path is None:
        host = socket.gethostname().split(".")[0] or "machine"
        path = RESULTS / f"{now:%Y-%m-%d}-{host}.json"
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=1))
        print(f"wrote {path}")
    if args.save and path is not None:
        from . import report

        report.generate(path)
    elif not args.save:
        print("nothing written (--save writes benchmarks/results/, RESULTS.md and the plots)")
    return 1 if runner.failures else 0


def _summary(results: dict[str, Any]) -> None:
    for f in results["figures"]:
        ratio = f" {f['ratio']:.2f}x {f.get('ceiling', '')}" if "ratio" in f else ""
        per = f" ({f['per_seconds'] * 1e3:.2f} ms each)" if "per_seconds" in f else ""
        verdict = {True: " ok", False: " MISSED", None: ""}[f.get("meets")]
        print(
            f"  {f['part']:<8} {f['store']:<10} {f['tool']:<9} {f['name']:<38} "
            f"{f['seconds'] * 1e3:9.1f} ms{per}{ratio}{verdict}"
        )


if __name__ == "__main__":
    sys.exit(main())
