"""Entry point of the `tabledag` command.

A user error (any `TabledagError`) prints one line, `tabledag: error: <message>`, and exits with
2 for a configuration error and 1 otherwise; `--debug` prints the full traceback instead.
Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
import traceback
from pathlib import Path

EXIT_ERROR = 1
EXIT_CONFIG_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tabledag", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("graph", help="draw a flow as SVG (tabledag graph --help)")
    commands.add_parser("report", help="write a run's HTML report (tabledag report --help)")
    demo = commands.add_parser("demo", help="run a demonstration pipeline on DuckDB, twice")
    demo.add_argument("--dir", help="directory for the database (default: a temporary one)")
    demo.add_argument("--url", help="a table store URL instead of a DuckDB file")
    return parser


CLICK_COMMANDS = {"graph": "graph_cmd:graph", "report": "report_cmd:report"}
"""Commands written with click (each in its own module), run from this argparse entry point."""


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit code instead of raising for a user error."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    debug = "--debug" in argv
    rest = [a for a in argv if a != "--debug"]
    if rest and rest[0] in CLICK_COMMANDS:
        return _run_click(rest[0], rest[1:], debug)
    args = parser.parse_args(argv)
    try:
        return run_command(parser, args)
    except KeyboardInterrupt:
        print("tabledag: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        from tabledag.errors import ConfigError, TabledagError

        if not isinstance(error, TabledagError):
            raise  # a bug, not a user error: the traceback is what helps
        report_error(error, debug=args.debug)
        return EXIT_CONFIG_ERROR if isinstance(error, ConfigError) else EXIT_ERROR


def _run_click(name: str, args: list[str], debug: bool) -> int:
    import importlib

    import click

    from tabledag.errors import ConfigError, TabledagError

    module, attr = CLICK_COMMANDS[name].split(":")
    command = getattr(importlib.import_module(f"tabledag.cli.{module}"), attr)
    try:
        result = command.main(args=args, prog_name=f"tabledag {name}", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    except KeyboardInterrupt:
        print("tabledag: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TabledagError as error:
        report_error(error, debug=debug)
        return EXIT_CONFIG_ERROR if isinstance(error, ConfigError) else EXIT_ERROR
    return result if isinstance(result, int) else 0


def report_error(error: BaseException, *, debug: bool) -> None:
    """One line for the user, or the whole traceback with `--debug`."""
    from tabledag.util import mask_url

    if debug:
        traceback.print_exception(error, file=sys.stderr)
    else:
        print(f"tabledag: error: {mask_url(str(error))}", file=sys.stderr)


def run_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.version:
        from tabledag import __version__

        print(__version__)
        return 0
    if args.command == "demo":
        return run_demo(args.dir, args.url, debug=args.debug)
    parser.print_help()
    return EXIT_ERROR


def run_demo(directory: str | None, url: str | None, *, debug: bool = False) -> int:
    """Run the demo pipeline twice; without `--dir` its database lives in a removed temp dir."""
    import pyarrow as pa

    from tabledag import create_basic_config

    from .demo import build_flow

    place = (
        contextlib.nullcontext(directory)
        if directory
        else tempfile.TemporaryDirectory(prefix="tabledag-demo-")
    )
    with place as root:
        path = Path(root) / "demo.duckdb"
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
                if result.exception is not None:
                    report_error(result.exception, debug=debug)
                return EXIT_ERROR
            if label == "first run":
                print("-- SQL of the lazy task model.revenue_by_segment:")
                print(result.sql(refs["revenue"]))
                print()
        print("revenue by segment:")
        print(result.get(refs["revenue"], as_type=pa.Table).to_pylist())
        print("report:", result.get(refs["summary"]))
        result.close()  # the session `result.get` read through
        if directory:
            print(f"\nthe database stays at {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
