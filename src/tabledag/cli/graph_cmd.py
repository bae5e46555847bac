"""`tabledag graph MODULE:FLOW -o flow.svg`: the flow drawn as SVG (tabledag.viz.graph)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..core.flow import Flow


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


def load_flow(spec: str) -> Flow:
    """The flow named by `MODULE:FLOW` (a dotted module or a `.py` file; a `Flow`, or a
    function of no arguments returning one). The click CLI's `common.load_flow` does the same;
    one of them goes when the two meet."""
    from ..core.flow import Flow

    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise click.BadParameter(f"{spec!r} is not MODULE:FLOW (e.g. pipeline.py:flow)")
    path = Path(module_name)
    if module_name.endswith(".py"):
        if not path.is_file():
            raise ConfigError(f"no such file: {path}")
        sys.path.insert(0, str(path.resolve().parent))
        sys.modules.pop(path.stem, None)
        module_name = path.stem
    elif str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise ConfigError(f"cannot import module {module_name!r}: {error}") from error
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ConfigError(f"{module_name} has no attribute {attr!r} (from {spec!r})")
        target = getattr(target, part)
    if callable(target) and not isinstance(target, Flow):
        target = target()
    if isinstance(target, tuple) and target and isinstance(target[0], Flow):
        target = target[0]
    if not isinstance(target, Flow):
        raise ConfigError(f"{spec!r} is a {type(target).__name__}, not a tabledag Flow")
    return target
