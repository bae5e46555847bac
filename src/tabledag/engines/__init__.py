"""Engines: where a run's tasks execute. The scheduling core (`tabledag.core.run`) decides what
is ready and commits stages; an engine only executes `fn(session, work)` somewhere and hands
back a future.

- `SequentialEngine` (default): in the driving thread, on the driver's own session.
- `ThreadEngine(max_workers)`: a thread pool in the driving process, a session per thread.
- `ProcessEngine(max_workers)`: a pool of fresh processes; each rebuilds the store from the
  config and opens its own session.
- `DaskEngine(address=None, n_workers=None, ...)`: a Dask distributed cluster (a
  `LocalCluster` when no address is given); `pip install 'tabledag[dask]'`.

Engines know the store contract and the config, nothing of tasks: what crosses to a worker is
a reference to an importable function and its picklable argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Engine, Executor, SequentialEngine, engine_from_spec

if TYPE_CHECKING:
    from .dask import DaskEngine
    from .processes import ProcessEngine
    from .threads import ThreadEngine

__all__ = [
    "DaskEngine",
    "Engine",
    "Executor",
    "ProcessEngine",
    "SequentialEngine",
    "ThreadEngine",
    "engine_from_spec",
]


def __getattr__(name: str) -> Any:
    # Imported when asked for: the process pool's imports (multiprocessing, subprocess, ...)
    # cost a run on the default engine ~10 ms of its start, Dask's far more.
    if name == "DaskEngine":
        from .dask import DaskEngine

        return DaskEngine
    if name == "ProcessEngine":
        from .processes import ProcessEngine

        return ProcessEngine
    if name == "ThreadEngine":
        from .threads import ThreadEngine

        return ThreadEngine
    raise AttributeError(name)
