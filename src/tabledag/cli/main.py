"""Entry point of the `tabledag` command."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tabledag", description=__doc__)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="run a demonstration pipeline on DuckDB, twice")
    demo.add_argument("--dir", help="directory for the database (default: a temporary one)")
    demo.add_argument("--url", help="a table store URL instead of a DuckDB file")
    args = parser.parse_args(argv)
    if args.version:
        from tabledag import __version__

        print(__version__)
        return 0
    if args.command == "demo":
        return run_demo(args.dir, args.url)
    parser.print_help()
    return 1


def run_demo(directory: str | None, url: str | None) -> int:
    import pyarrow as pa

    from tabledag import create_basic_config

    from .demo import build_flow

    with tempfile.TemporaryDirectory(prefix="tabledag-demo-") as tmp:
        path = Path(directory or tmp) / "demo.duckdb"
        config = create_basic_config(url or f"duckdb:///{path}", instance_id="demo")
        print(f"tabledag demo on {config.store!r}\n")
        flow, refs = build_flow()
        for label in ("first run", "second run (nothing changed)"):
            started = time.perf_counter()
            result = flow.run(config=config)
            elapsed = time.perf_counter() - started
            print(f"== {label}: {elapsed * 1000:.0f} ms, successful={result.successful}")
            print(result.summary())
            print()
            if not result.successful:
                print(result.exception, file=sys.stderr)
                return 1
            if label == "first run":
                print("-- SQL of the lazy task model.revenue_by_segment:")
                print(result.sql(refs["revenue"]))
                print()
        print("revenue by segment:")
        print(result.get(refs["revenue"], as_type=pa.Table).to_pylist())
        print("report:", result.get(refs["summary"]))
        if directory:
            print(f"\nthe database stays at {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
