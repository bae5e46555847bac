"""`tabledag graph MODULE:FLOW -o flow.svg`: the flow drawn as SVG (tabledag.viz.graph)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import load_flow


@click.command()
@click.argument("flow_spec", metavar="MODULE:FLOW")
@click.option(
    "-o",
    "--output",
    default="flow.svg",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the SVG.",
)
def graph(flow_spec: str, output: Path) -> int:
    """Draw a flow's stages, groups and tasks as an SVG file (drawn locally, no network)."""
    flow = load_flow(flow_spec)
    flow.visualize(path=output)
    click.echo(f"wrote {output} ({len(flow.stages)} stages, {len(flow.tasks)} tasks)")
    return 0
