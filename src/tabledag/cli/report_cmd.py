"""`tabledag report [RUN_ID] -o run.html`: a recorded run (the last one by default) as one
self-contained HTML page (tabledag.viz.report)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import TabledagError
from .common import config_options, load_config


@click.command()
@click.argument("run_id", required=False)
@click.option(
    "-o",
    "--output",
    default="run.html",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the page.",
)
@config_options
def report(run_id: str | None, output: Path, config_path: Path | None, instance: str | None) -> int:
    """Write the report of a run: its timeline, tasks, tables, SQL and errors."""
    from ..viz.report import render_report

    config = load_config(config_path, instance)
    store = config.store
    try:
        with store.session() as session:
            records = session.run_records(run_id, limit=2 if run_id else 1)
    finally:
        store.close()
    if run_id is not None and len(records) != 1:
        problem = "matches no recorded run" if not records else "matches more than one run"
        raise click.BadParameter(f"{run_id!r} {problem} of {store!r}", param_hint="'RUN_ID'")
    if not records:
        raise TabledagError(f"no run is recorded in {store!r} yet: run a flow first")
    (record,) = records
    render_report(record, path=output)
    outcome = "successful" if record.successful else "failed"
    click.echo(f"wrote {output}: run {record.run_id} of flow {record.flow!r} ({outcome})")
    return 0
