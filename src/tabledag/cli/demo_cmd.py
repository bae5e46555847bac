"""`tabledag demo`: a demonstration pipeline on DuckDB, run twice (the second run is cached)."""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

import click


@click.command()
@click.option("--dir", "directory", help="Directory for the database (default: a temporary one).")
@click.option("--url", help="A table store URL instead of a DuckDB file.")
@click.pass_context
def demo(ctx: click.Context, directory: str | None, url: str | None) -> int:
    """Run a demonstration pipeline on DuckDB, twice."""
    import pyarrow as pa

    from tabledag import create_basic_config

    from .common import debugging
    from .demo import build_flow
    from .main import report_error

    debug = debugging(ctx)
    place = (
        contextlib.nullcontext(directory)
        if directory
        else tempfile.TemporaryDirectory(prefix="tabledag-demo-")
    )
    with place as root:
        path = Path(root) / "demo.duckdb"
        config = create_basic_config(url or f"duckdb:///{path}", instance_id="demo")
        click.echo(f"tabledag demo on {config.store!r}\n")
        flow, refs = build_flow()
        for label in ("first run", "second run (nothing changed)"):
            started = time.perf_counter()
            result = flow.run(config=config)
            elapsed = time.perf_counter() - started
            click.echo(f"== {label}: {elapsed * 1000:.0f} ms, successful={result.successful}")
            click.echo(result.summary())
            click.echo()
            if not result.successful:
                if result.exception is not None:
                    report_error(result.exception, debug=debug)
                return 1
            if label == "first run":
                click.echo("-- SQL of the lazy task model.revenue_by_segment:")
                click.echo(result.sql(refs["revenue"]))
                click.echo()
        click.echo("revenue by segment:")
        click.echo(result.get(refs["revenue"], as_type=pa.Table).to_pylist())
        click.echo(f"report: {result.get(refs['summary'])}")
        result.close()  # the session `result.get` read through
        if directory:
            click.echo(f"\nthe database stays at {path}")
    return 0
