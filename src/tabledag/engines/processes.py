"""Tasks on a pool of fresh processes (the standard library's `ProcessPoolExecutor`), each
rebuilding the store from the config and writing its own outputs.

A worker process that dies mid-task (killed, out of memory, a crash in native code) breaks
the whole pool, and the pool cannot say which task killed it. So the works that were running
are retried one at a time on a fresh pool: one that kills its worker again while it runs alone
fails with `WorkerDiedError`; the others finish as they would have.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import TaskFailedError, WorkerDiedError
from . import worker
from .base import Engine, Executor, Work

if TYPE_CHECKING:
    from ..config import Config
    from ..stores.base import StoreSession


class ProcessEngine(Engine):
    in_other_processes = True

    def __init__(self, max_workers: int | None = None, start_method: str = "spawn") -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers}")
        if start_method not in multiprocessing.get_all_start_methods():
            raise ValueError(f"unknown start_method {start_method!r}")
        self.max_workers = max_workers or min(8, os.cpu_count() or 1)
        self.start_method = start_method

    @contextmanager
    def open(self, config: Config, session: StoreSession) -> Iterator[Executor]:
        executor = _Processes(self, config)
        try:
            yield executor
        finally:
            executor.close()

    def __repr__(self) -> str:
        return f"ProcessEngine(max_workers={self.max_workers})"


@dataclass(eq=False)
class _Entry:
    fn: Work
    work: Any
    outer: Future[Any] = field(default_factory=Future)
    suspect: bool = False
    pool: int = -1


class _Processes(Executor):
    def __init__(self, engine: ProcessEngine, config: Config) -> None:
        self._engine, self._config = engine, config
        self.workers = engine.max_workers
        self._run_id = uuid.uuid4().hex
        self._lock = threading.RLock()
        self._pools: list[ProcessPoolExecutor] = []
        self._queue: deque[_Entry] = deque()
        self._running: set[_Entry] = set()
        self._breaks: dict[int, int] = {}
        """pool index -> how many works were running when it broke."""
        self._new_pool()

    def _new_pool(self) -> None:
        context = multiprocessing.get_context(self._engine.start_method)
        self._pools.append(ProcessPoolExecutor(self._engine.max_workers, mp_context=context))

    def submit(self, fn: Work, work: Any) -> Future[Any]:
        ensure_picklable(fn, work)
        entry = _Entry(fn, work)
        with self._lock:
            self._queue.append(entry)
            self._pump()
        return entry.outer

    def _pump(self) -> None:
        """Start queued works: suspects one at a time and alone, others up to the pool size."""
        while self._queue:
            entry = self._queue[0]
            if entry.suspect or any(e.suspect for e in self._running):
                if self._running:
                    return
            elif len(self._running) >= self.workers:
                return
            self._queue.popleft()
            entry.pool = len(self._pools) - 1
            self._running.add(entry)
            inner = self._pools[-1].submit(
                worker.call, self._run_id, self._config, entry.fn, entry.work
            )
            inner.add_done_callback(lambda f, e=entry: self._done(e, f))  # type: ignore[misc]
            if entry.suspect:
                return

    def _done(self, entry: _Entry, inner: Future[Any]) -> None:
        with self._lock:
            if inner.cancelled():  # the pool was shut down under it
                self._running.discard(entry)
                entry.outer.cancel()
                return
            error = inner.exception()
            if isinstance(error, BrokenProcessPool):
                self._broken(entry)
            else:
                self._running.discard(entry)
                if error is None:
                    entry.outer.set_result(inner.result())
                else:
                    entry.outer.set_exception(error)
            self._pump()

    def _broken(self, entry: _Entry) -> None:
        if entry.pool not in self._breaks:  # the first to hear of this break
            self._breaks[entry.pool] = sum(1 for e in self._running if e.pool == entry.pool)
            if entry.pool == len(self._pools) - 1:
                self._new_pool()
        self._running.discard(entry)
        if self._breaks[entry.pool] == 1 or entry.suspect:
            entry.outer.set_exception(
                WorkerDiedError(
                    f"the worker process running {_name(entry.work)} died before it finished "
                    "(killed, out of memory, or a crash in native code); nothing it wrote was "
                    "committed"
                )
            )
            return
        entry.suspect = True
        self._queue.appendleft(entry)

    def close(self) -> None:
        with self._lock:
            while self._queue:
                self._queue.popleft().outer.cancel()
        for pool in self._pools:
            pool.shutdown(wait=pool is self._pools[-1], cancel_futures=True)


def _name(work: Any) -> str:
    name = getattr(work, "describe", None)
    return name() if callable(name) else repr(work)


def ensure_picklable(fn: Work, work: Any) -> None:
    """Refuse, here and clearly, a work another process could not rebuild (a task defined
    inside a function, a lambda argument, an open connection)."""
    try:
        pickle.loads(pickle.dumps((fn, work)))
    except Exception as error:
        raise TaskFailedError(
            f"{_name(work)} cannot be sent to a worker process: {type(error).__name__}: "
            f"{error}. Define the task at the top level of an importable module and pass "
            "only picklable arguments, or run with ThreadEngine"
        ) from error
