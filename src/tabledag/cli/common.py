"""What the commands share: finding the flow (`MODULE:FLOW`), the config (`--config`,
`--instance`) and a session on the instance's store under its run lock."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import ConfigError, StoreError, TabledagError

if TYPE_CHECKING:
    from ..config import Config
    from ..core.flow import Flow
    from ..core.task import TaskCall
    from ..locks import Locks
    from ..stores.base import StoreSession

F = TypeVar("F", bound=Callable[..., Any])


def config_options(fn: F) -> F:
    """`--config FILE` and `--instance NAME`, as every command that reaches a store takes them."""
    fn = click.option("--instance", "-i", metavar="NAME", help="Instance of the config file.")(fn)
    return click.option(
        "--config",
        "-c",
        "config_path",
        metavar="FILE",
        type=click.Path(path_type=Path),
        help="tabledag.yaml to read (default: $TABLEDAG_CONFIG, else the nearest one upwards).",
    )(fn)


def debugging(ctx: click.Context) -> bool:
    """Whether `tabledag --debug` was given (the group keeps it in `ctx.obj`)."""
    return bool(ctx.obj and ctx.obj.get("debug"))


def state_counts(states: list[str]) -> str:
    """`2 cache_valid, 1 completed`: how many tasks ended in each state."""
    return ", ".join(f"{states.count(s)} {s.lower()}" for s in sorted(set(states)))


def load_config(config_path: Path | None, instance: str | None) -> Config:
    from ..config import Config

    return Config.load(config_path).get(instance)


def load_flow(spec: str) -> Flow:
    """The flow named by `MODULE:FLOW`: a dotted module or a `.py` file, and a `Flow` in it
    (or a function of no arguments returning one, or a tuple whose first item is one)."""
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


def find_task(flow: Flow, name: str) -> TaskCall:
    """A task by `stage.task` or, where only one task has it, by its name."""
    found = [c for c in flow.tasks if name in (c.id, c.name)]
    if len(found) == 1:
        return found[0]
    if not found:
        known = ", ".join(c.id for c in flow.tasks[:20])
        raise click.BadParameter(f"flow {flow.name!r} has no task {name!r} (tasks: {known})")
    ids = ", ".join(c.id for c in found)
    raise click.BadParameter(f"{name!r} names {len(found)} tasks ({ids}): write stage.task")


@contextlib.contextmanager
def store_session(config: Config, *, alone: bool = False) -> Iterator[tuple[StoreSession, Locks]]:
    """A session on the instance's store, set up, under the run lock; with `alone`, refused
    while another run is active (what may drop tables must not pull them from under it).
    A driver's error becomes a `StoreError` naming the store (masked)."""
    from ..util import mask_url

    store = config.store_object
    locks = store.locks(config.lock_timeout)
    try:
        with locks.run(), store.session() as session:
            session.setup(locks)
            if alone:
                with locks.cleanup() as only_run:
                    if not only_run:
                        raise StoreError(f"another run is active on {store!r}: try again later")
                    yield session, locks
            else:
                yield session, locks
    except (TabledagError, click.ClickException):
        raise
    except Exception as error:
        message = f"{store!r}: {type(error).__name__}: {mask_url(str(error).strip())}"
        raise StoreError(message) from error
    finally:
        locks.close()
        store.close()
