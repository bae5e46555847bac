"""`tabledag status`: what an instance holds now (committed stages; per table its rows, size
and key) and how its last run went."""

from __future__ import annotations

from pathlib import Path

import click

from .common import config_options, load_config, state_counts, store_session


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover  (unreachable)


@click.command()
@config_options
def status(config_path: Path | None, instance: str | None) -> int:
    """Show the committed stages and tables of an instance, and its last run."""
    from ..core.records import RunDetails

    config = load_config(config_path, instance)
    click.echo(f"instance {config.instance_id!r} on {config.store!r}")
    with store_session(config) as (session, _):
        stages = session.committed_stages()
        tables = {stage: session.stage_tables(stage) for stage in stages}
        records = session.run_records(limit=1)
    if not stages:
        click.echo("no stage has committed yet")
    for stage, generation in stages.items():
        shown = tables[stage]
        click.echo(f"\nstage {stage!r} (generation {generation}, {len(shown)} tables)")
        width = max((len(t.name) for t in shown), default=0)
        for t in shown:
            rows = "-" if t.rows is None else f"{t.rows:,}"
            click.echo(
                f"  {t.name:<{width}}  {rows:>12} rows  {human_bytes(t.bytes):>9}  {t.key[:16]}"
            )
    if records:
        run = RunDetails.of(records[0])
        states = [t.state for t in run.tasks]
        counts = state_counts(states)
        outcome = "successful" if run.successful else "failed"
        click.echo(
            f"\nlast run {run.run_id[:12]} of flow {run.flow!r}: {outcome} in "
            f"{run.duration:.2f} s ({counts or 'no tasks'})"
        )
        for error in run.errors[:5]:
            where = ".".join(p for p in (error.stage, error.task) if p)
            click.echo(f"  error in {where}: {error.message.splitlines()[0][:200]}")
    else:
        click.echo("\nno run is recorded yet")
    return 0
