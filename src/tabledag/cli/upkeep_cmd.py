"""`tabledag gc` and `tabledag delete-schemas`: dropping what no run needs.

Both hold the instance's run lock and refuse while another run is active, and `gc` takes each
stage's lock while it cleans it, so neither pulls a table from under a run.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import config_options, load_config, store_session


@click.command()
@config_options
@click.option("--dry-run", "-n", is_flag=True, help="List what would be dropped; drop nothing.")
def gc(config_path: Path | None, instance: str | None, dry_run: bool) -> int:
    """Drop physical tables and files that no committed or kept record names (left by runs
    that were killed before they committed, or by a cleanup another run blocked)."""
    config = load_config(config_path, instance)
    total = 0
    with store_session(config, alone=True) as (session, locks):
        for stage in session.committed_stages():
            with locks.stage(stage):
                found = session.garbage(stage)
                for name in found:
                    click.echo(f"{'would drop' if dry_run else 'dropping'} {stage}: {name}")
                if found and not dry_run:
                    session.drop_garbage(stage, found)
                total += len(found)
    verb = "would drop" if dry_run else "dropped"
    click.echo(f"{verb} {total} unreferenced table(s) of instance {config.instance_id!r}")
    return 0


@click.command("delete-schemas")
@config_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", "-n", is_flag=True, help="List the stages; delete nothing.")
def delete_schemas(config_path: Path | None, instance: str | None, yes: bool, dry_run: bool) -> int:
    """Delete every schema of an instance: each stage's views and tables, and the metadata
    (pipedag's `pipedag-manage delete-schemas`)."""
    config = load_config(config_path, instance)
    with store_session(config, alone=True) as (session, _):
        stages = sorted(session.committed_stages())
        listed = ", ".join(stages) or "none"
        click.echo(f"instance {config.instance_id!r} on {config.store!r}: stages {listed}")
        if dry_run:
            return 0
        if not yes:
            click.confirm("delete all its schemas and their tables?", abort=True, err=True)
        dropped = session.delete_instance()
    click.echo(f"deleted {len(dropped)} schema(s): {', '.join(dropped) or 'none'}")
    return 0
