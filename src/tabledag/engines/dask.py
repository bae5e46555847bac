"""Tasks on a Dask distributed cluster: an existing scheduler (`address`), or a `LocalCluster`
started for the run. `pip install 'tabledag[dask]'`.

Each worker rebuilds the store from the config and keeps one session per run; the driver
keeps the locks and commits. `retries` lets Dask run a task again when its worker died
(Dask's `allowed-failures` on a cluster we start; `retries` on every submission).
`direct_to_workers` is Dask's (fetch results from workers directly, not via the scheduler).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from . import worker
from .base import Engine, Executor, Work
from .processes import ensure_picklable

if TYPE_CHECKING:
    from ..config import Config
    from ..stores.base import StoreSession


class DaskEngine(Engine):
    def __init__(
        self,
        address: str | None = None,
        n_workers: int | None = None,
        *,
        threads_per_worker: int = 1,
        processes: bool = True,
        retries: int = 0,
        direct_to_workers: bool | None = None,
        **cluster_args: Any,
    ) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError as error:
            raise ConfigError(
                "DaskEngine needs Dask distributed: pip install 'tabledag[dask]'"
            ) from error
        self.address = address
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        self.processes = processes
        self.retries = retries
        self.direct_to_workers = direct_to_workers
        self.cluster_args = cluster_args
        self.in_other_processes = processes or address is not None

    @contextmanager
    def open(self, config: Config, session: StoreSession) -> Iterator[Executor]:
        import dask
        import distributed

        run_id = uuid.uuid4().hex
        if not self.in_other_processes:
            worker.share(run_id, session.store)
        with dask.config.set({"distributed.scheduler.allowed-failures": self.retries}):
            if self.address is not None:
                client = distributed.Client(self.address, direct_to_workers=self.direct_to_workers)
                cluster = None
            else:
                cluster = distributed.LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=self.threads_per_worker,
                    processes=self.processes,
                    **{"dashboard_address": ":0", **self.cluster_args},  # no fixed port
                )
                client = distributed.Client(cluster, direct_to_workers=self.direct_to_workers)
        try:
            workers = sum(client.nthreads().values()) or 1
            yield _Dask(client, run_id, config, workers, self.retries, self.in_other_processes)
        finally:
            with suppress(Exception):  # a worker that died took its sessions with it
                client.run(worker.close_run, run_id)
            worker.close_run(run_id)
            client.close()
            if cluster is not None:
                cluster.close()

    def __repr__(self) -> str:
        where = self.address or f"LocalCluster(n_workers={self.n_workers})"
        return f"DaskEngine({where})"


class _Dask(Executor):
    def __init__(
        self, client: Any, run_id: str, config: Config, workers: int, retries: int, pickle: bool
    ) -> None:
        self._client, self._run_id, self._config = client, run_id, config
        self.workers, self._retries, self._pickle = workers, retries, pickle

    def submit(self, fn: Work, work: Any) -> Future[Any]:
        if self._pickle:
            ensure_picklable(fn, work)
        outer: Future[Any] = Future()
        inner = self._client.submit(
            worker.call,
            self._run_id,
            self._config,
            fn,
            work,
            pure=False,
            retries=self._retries,
            key=f"tabledag-{getattr(work, 'describe', lambda: 'task')()}-{uuid.uuid4().hex[:8]}",
        )

        def transfer(done: Any) -> None:
            try:
                outer.set_result(done.result())
            except BaseException as error:
                outer.set_exception(error)

        inner.add_done_callback(transfer)
        return outer
