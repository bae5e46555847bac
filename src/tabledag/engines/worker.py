"""What runs inside a worker process (or a Dask worker): one session per run and thread,
opened on first use from the run's config and closed when the run ends or the process exits.

A driver that runs workers inside its own process (threads, an in-process Dask cluster)
shares its store object here under the run's id, so in-memory stores work and a DuckDB file
is opened once; workers in other processes rebuild the store from the config.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import Config
    from ..stores.base import StoreSession, TableStore
    from .base import Work

_lock = threading.Lock()
_sessions: dict[tuple[str, int], StoreSession] = {}
_shared: dict[str, TableStore] = {}
_stores: dict[str, TableStore] = {}
"""run id -> the store a worker process rebuilt for that run (one per process and run)."""
_KEEP_RUNS = 4
"""Workers of a long-lived cluster keep sessions of this many recent runs."""


def share(run_id: str, store: TableStore) -> None:
    with _lock:
        _shared[run_id] = store


def call(run_id: str, config: Config, fn: Work, work: Any) -> Any:
    """`fn(session, work)` on this thread's session for the run."""
    key = (run_id, threading.get_ident())
    with _lock:
        session = _sessions.get(key)
    if session is None:
        session = _open(run_id, config)
        with _lock:
            _sessions[key] = session
            _forget_old_runs(run_id)
    from ..config import active

    token = active.enter(config)  # what `ConfigContext.get()` in a task returns
    try:
        return fn(session, work)
    finally:
        active.leave(token)


def _open(run_id: str, config: Config) -> StoreSession:
    with _lock:
        store = _shared.get(run_id) or _stores.get(run_id)
        if store is None:
            store = _stores[run_id] = config.store_object
    return store.open_session()


def _forget_old_runs(current: str) -> None:
    runs = list(dict.fromkeys(run for run, _ in _sessions))
    for old in runs[:-_KEEP_RUNS]:
        if old != current:
            _close_locked(old)


def close_run(run_id: str) -> None:
    """Close this process's sessions of a run (the driver calls it when the run ends)."""
    with _lock:
        _close_locked(run_id)
        _shared.pop(run_id, None)


def _close_locked(run_id: str) -> None:
    for key in [k for k in _sessions if k[0] == run_id]:
        with contextlib.suppress(Exception):  # a session that died with its server
            _sessions.pop(key).close()
    store = _stores.pop(run_id, None)
    if store is not None:
        with contextlib.suppress(Exception):
            store.close()


@atexit.register
def _close_all() -> None:
    for run_id in {run for run, _ in _sessions} | set(_stores):
        _close_locked(run_id)
