"""`tabledag run MODULE:FLOW`: run a flow (or some of its stages or tasks) and watch it.

Exit codes: 0 the run succeeded, 1 it failed (the failure in one line; `--debug` for the
traceback), 2 a usage or configuration error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .common import (
    config_options,
    debugging,
    find_task,
    load_config,
    load_flow,
    state_counts,
)


@click.command()
@click.argument("flow_spec", metavar="MODULE:FLOW")
@config_options
@click.option("--ignore-cache", is_flag=True, help="Run every task and rewrite every table.")
@click.option(
    "--stage",
    "-s",
    "stages",
    multiple=True,
    metavar="STAGE",
    help="Run only this stage (repeatable); upstream outputs are read as committed.",
)
@click.option(
    "--task",
    "-t",
    "tasks",
    multiple=True,
    metavar="TASK",
    help="Run only this task (`stage.task`, repeatable), even when cache-valid; commits nothing.",
)
@click.option(
    "--engine",
    "-e",
    metavar="ENGINE",
    help="Where tasks run: sequential, threads, processes, dask (default: the config's).",
)
@click.option("--quiet", "-q", is_flag=True, help="Plain lines instead of the live view.")
@click.pass_context
def run(
    ctx: click.Context,
    flow_spec: str,
    config_path: Path | None,
    instance: str | None,
    ignore_cache: bool,
    stages: tuple[str, ...],
    tasks: tuple[str, ...],
    engine: str | None,
    quiet: bool,
) -> int:
    """Run a flow: every task, or only --stage or --task ones."""
    from ..viz.progress import LiveProgress, PlainProgress
    from .main import report_error

    if stages and tasks:
        raise click.UsageError("give --stage or --task, not both")
    flow = load_flow(flow_spec)
    config = load_config(config_path, instance)
    components: list[Any] = []
    for name in stages:
        try:
            components.append(flow[name])
        except KeyError:
            known = ", ".join(s.name for s in flow.stages)
            raise click.BadParameter(
                f"flow {flow.name!r} has no stage {name!r} (stages: {known})", param_hint="--stage"
            ) from None
    components += [find_task(flow, name) for name in tasks]
    live = not quiet and sys.stderr.isatty()
    click.echo(f"flow {flow.name!r} on {config.store!r}", err=True)
    with LiveProgress() if live else PlainProgress() as progress:
        result = flow.run(
            *components,
            config=config,
            ignore_cache=ignore_cache,
            engine=engine,
            progress=progress,
        )
    states = [s.name for s in result.states.values()]
    counts = state_counts(states)
    outcome = "successful" if result.successful else "failed"
    click.echo(f"run {result.run_id} {outcome}: {counts or 'no tasks'}", err=True)
    if not result.successful:
        if result.exception is not None:
            report_error(result.exception, debug=debugging(ctx))
        return 1
    return 0
