"""Tasks on a thread pool in the driving process, each thread on a session of its own (a
DuckDB cursor, a Postgres connection): the engine for one machine, and the only one a single
DuckDB file admits."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from . import worker
from .base import Engine, Executor, Work

if TYPE_CHECKING:
    from ..config import Config
    from ..stores.base import StoreSession


class ThreadEngine(Engine):
    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers}")
        self.max_workers = max_workers or min(8, os.cpu_count() or 1)

    @contextmanager
    def open(self, config: Config, session: StoreSession) -> Iterator[Executor]:
        run_id = uuid.uuid4().hex
        worker.share(run_id, session.store)
        pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="tabledag")
        try:
            yield _Threads(pool, run_id, config, self.max_workers)
        finally:
            pool.shutdown(wait=True)
            worker.close_run(run_id)

    def __repr__(self) -> str:
        return f"ThreadEngine(max_workers={self.max_workers})"


class _Threads(Executor):
    def __init__(self, pool: ThreadPoolExecutor, run_id: str, config: Config, n: int) -> None:
        self._pool, self._run_id, self._config, self.workers = pool, run_id, config, n

    def submit(self, fn: Work, work: Any) -> Future[Any]:
        return self._pool.submit(worker.call, self._run_id, self._config, fn, work)
