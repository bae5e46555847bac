"""Locks that keep two runs from writing one store at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import LockError

DEFAULT_TIMEOUT = 600.0
"""Seconds to wait for another run to finish before giving up."""


@contextmanager
def file_lock(path: str, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """An inter-process lock on `path` (created if missing); reentrant within a process."""
    import filelock

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    lock = _locks.setdefault(path, filelock.FileLock(path, thread_local=False))
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout as error:
        raise LockError(
            f"another run holds {path} for more than {timeout:.0f}s; wait for it to finish "
            "or remove the lock file if no tabledag process is running"
        ) from error
    try:
        yield
    finally:
        lock.release()


_locks: dict = {}
