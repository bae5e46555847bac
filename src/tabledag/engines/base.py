"""The engine contract, the sequential engine, and building an engine from `orchestration:`."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config import Config
    from ..stores.base import StoreSession

W = TypeVar("W")
R = TypeVar("R")

Work = Callable[["StoreSession", Any], Any]
"""What an engine executes: `fn(session, work)`; `fn` is an importable module-level function."""


class Executor(ABC):
    """An engine opened for one run."""

    workers: int = 1
    """How many works may run at once."""
    inline: bool = False
    """Whether works run on the driver's own session, seeing the run's state as it is."""

    @abstractmethod
    def submit(self, fn: Work, work: Any) -> Future[Any]:
        """Start `fn(session, work)` on some worker's session."""


class Engine(ABC):
    """Where tasks run. `open` gives an `Executor` for one run of `config`, whose driver holds
    `session` (the engine may run works on it, or open sessions of its own)."""

    in_other_processes: bool = False
    """Whether workers run in other processes (and so rebuild the store from the config)."""

    @abstractmethod
    def open(self, config: Config, session: StoreSession) -> Any:
        """A context manager yielding an `Executor`; leaving it waits for and closes workers."""

    def check(self, config: Config) -> None:
        """Refuse a store that workers cannot share (e.g. one DuckDB file for many processes)."""
        store = config.store_object
        if self.in_other_processes and not store.shared_by_processes:
            raise ConfigError(
                f"{type(self).__name__} runs tasks in other processes, but {store!r} admits "
                f"one process only ({store.one_process_reason}); use ThreadEngine, or a "
                "database server such as PostgreSQL"
            )


class SequentialEngine(Engine):
    """Every task in the driving thread, one after another, on the driver's session."""

    @contextmanager
    def open(self, config: Config, session: StoreSession) -> Iterator[Executor]:
        yield _Inline(session)

    def __repr__(self) -> str:
        return "SequentialEngine()"


class _Inline(Executor):
    inline = True

    def __init__(self, session: StoreSession) -> None:
        self._session = session

    def submit(self, fn: Work, work: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(self._session, work))
        except Exception as error:  # the scheduling core decides what a failure means
            future.set_exception(error)
        return future


ENGINE_KEYS = ("class", "args")
_NAMES = {
    "sequential": "tabledag.engines.SequentialEngine",
    "threads": "tabledag.engines.ThreadEngine",
    "processes": "tabledag.engines.ProcessEngine",
    "dask": "tabledag.engines.DaskEngine",
}


def engine_from_spec(spec: Any, where: str = "the config") -> Engine:
    """An engine from `orchestration: {class: ..., args: ...}` (pipedag's key), a short name
    (`sequential`, `threads`, `processes`, `dask`) or an `Engine` itself."""
    if isinstance(spec, Engine):
        return spec
    if isinstance(spec, str):
        spec = {"class": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str):
        raise ConfigError(
            f"{where}: `orchestration` must be a mapping with `class` (e.g. "
            f"'tabledag.ThreadEngine') and optional `args`, or one of {sorted(_NAMES)}; "
            f"not {spec!r}"
        )
    unknown = sorted(set(spec) - set(ENGINE_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) in `orchestration`: {', '.join(unknown)}")
    given = str(spec["class"])
    path = _NAMES.get(given.lower(), given)
    if path.startswith("tabledag.") and path.count(".") == 1:  # tabledag.ThreadEngine
        path = "tabledag.engines." + path.split(".", 1)[1]
    module, _, name = path.rpartition(":") if ":" in path else path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigError(f"{where}: cannot import engine class {path!r}: {error}") from error
    args = spec.get("args") or {}
    if not isinstance(args, dict):
        raise ConfigError(f"{where}: `orchestration.args` must be a mapping, not {args!r}")
    try:
        engine = cls(**args)
    except TypeError as error:
        raise ConfigError(f"{where}: bad arguments for {path}: {error}") from error
    if not isinstance(engine, Engine):
        raise ConfigError(f"{where}: {path} is not a tabledag Engine")
    return engine
