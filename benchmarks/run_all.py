"""Run every benchmark (each in its own process) and collect a markdown report.

    python -m benchmarks.run_all [--store duckdb|postgres|both|parquet|all] [--quick] [--large]
                                 [--save]

`--quick`: small sizes and few repetitions (a smoke run); `--large`: frame_load and parquet with
5M rows; `--store both`: every benchmark on DuckDB, then on Postgres
($TABLEDAG_BENCH_POSTGRES_URL); `--store parquet`: the ParquetTableStore benchmarks (tiny_tasks
on it, parquet's write/read against raw pyarrow/polars/pandas, parquet_attach); `--store all`:
DuckDB, Postgres, then parquet.
The reports print as they run. The tracked files under `benchmarks/results/` are written only
with `--save` (the report to `latest.md`, tiny_tasks' full profiles); `--out PATH` writes the
markdown report to PATH instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from . import _common as c

BENCHMARKS = ("tiny_tasks", "frame_load", "cached_rerun")
STORE_BENCHMARKS = {
    "duckdb": BENCHMARKS,
    "postgres": BENCHMARKS,
    "parquet": ("tiny_tasks", "parquet", "parquet_attach"),
}
LARGE = ("frame_load", "parquet")
"""The benchmarks that take `--large`."""


def environment() -> list[str]:
    import duckdb
    import ibis
    import pandas
    import polars
    import pyarrow
    import sqlglot

    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            text=True,
            capture_output=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"],
            cwd=root,
            text=True,
            capture_output=True,
            check=False,
        ).stdout.strip()
        rev += " (src has uncommitted changes)" if dirty else ""
    except OSError:
        rev = "?"
    return [
        f"- date: {dt.datetime.now().isoformat(timespec='seconds')}",
        f"- git: {rev}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        f"- duckdb {duckdb.__version__}, ibis {ibis.__version__}, sqlglot {sqlglot.__version__}, "
        f"pyarrow {pyarrow.__version__}, polars {polars.__version__}, pandas {pandas.__version__}",
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--store",
        choices=["duckdb", "postgres", "both", "parquet", "all"],
        default="duckdb",
        help="where to measure (default: duckdb)",
    )
    p.add_argument("--quick", action="store_true", help="small sizes, few repetitions (smoke run)")
    p.add_argument("--large", action="store_true", help="frame_load and parquet with 5M rows")
    p.add_argument(
        "--save",
        action="store_true",
        help="write benchmarks/results/latest.md and the profiles (default: print only)",
    )
    p.add_argument("--out", default=None, help="write the markdown report to this path")
    args = p.parse_args(argv)
    out_path = args.out or (str(c.RESULTS / "latest.md") if args.save else None)

    stores = {
        "both": ["duckdb", "postgres"],
        "all": ["duckdb", "postgres", "parquet"],
    }.get(args.store, [args.store])
    sections: list[str] = []
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for store in stores:
            for name in STORE_BENCHMARKS[store]:
                cmd = [sys.executable, "-m", f"benchmarks.{name}", "--store", store]
                cmd += ["--quick"] if args.quick else []
                cmd += ["--large"] if args.large and name in LARGE else []
                cmd += ["--save"] if args.save else []
                out = Path(tmp) / f"{store}_{name}.json"
                cmd += ["--json", str(out)]
                print(f"\n$ {' '.join(cmd[1:-2])}", flush=True)
                proc = subprocess.run(cmd, cwd=Path(__file__).resolve().parent.parent, check=False)
                if proc.returncode == 0 and out.exists():
                    data = json.loads(out.read_text())
                    data["sections"] = [c.Section(**s) for s in data["sections"]]
                    sections.append(c.Report(**data).markdown())
                else:
                    failures += 1
                    sections.append(
                        f"## {name} — {store}\n\n**failed** (exit code "
                        f"{proc.returncode}); see the console output.\n"
                    )

    mode = "quick" if args.quick else "full" + (", large" if args.large else "")
    text = "\n".join(
        [
            f"# tabledag benchmarks ({mode})",
            "",
            *environment(),
            "",
            "Medians of several repetitions after a warm-up, cases interleaved round by round; "
            "ratios are against a raw reference measured in the same process.",
            "",
            *sections,
        ]
    )
    if out_path:
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
        Path(out_path).write_text(text)
        print(f"\nwrote {out_path}")
    else:
        print("\nreport not written (--save writes benchmarks/results/latest.md)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
