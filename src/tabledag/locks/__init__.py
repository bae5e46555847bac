"""Locks that keep runs of one instance from stepping on each other.

A `Locks` object guards one instance and is held by the process that drives a run, while
sessions (possibly elsewhere) write:

- `run()`: held for a whole run. Where several runs may share an instance (Postgres) it is a
  shared lease; where the database admits one writer (a DuckDB file) it is exclusive.
- `stage(name)`: held while a stage runs and commits; two runs never write one stage at once.
- `setup()`: held while metadata tables are created or upgraded.
- `cleanup()`: yields whether this run is the only one holding a lease, i.e. whether physical
  tables no record names may be dropped without pulling them from under another run's reads.

Releasing never hides the error that ended the block: if the connection behind a lock died
with the run, the release failure is logged and the original error propagates.
"""

from __future__ import annotations

import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import LockError, StoreConnectionError, StoreError

logger = logging.getLogger("tabledag.locks")

DEFAULT_TIMEOUT = 600.0
"""Seconds to wait for another run before giving up."""


class Locks(ABC):
    """The locks of one instance; see the module docstring."""

    @abstractmethod
    def run(self) -> Any: ...

    @abstractmethod
    def stage(self, stage: str) -> Any: ...

    @abstractmethod
    def setup(self) -> Any: ...

    @abstractmethod
    def cleanup(self) -> Any: ...

    def close(self) -> None:
        """Release whatever connection the locks hold."""


class NoLocks(Locks):
    """For stores only one process can reach (in-memory databases)."""

    @contextmanager
    def run(self) -> Iterator[None]:
        yield

    @contextmanager
    def stage(self, stage: str) -> Iterator[None]:
        yield

    @contextmanager
    def setup(self) -> Iterator[None]:
        yield

    @contextmanager
    def cleanup(self) -> Iterator[bool]:
        yield True


class FileLocks(NoLocks):
    """One exclusive file lock for a whole run: for databases that admit one writing process
    at a time (DuckDB's own rule), so stage and setup locks are implied by it."""

    def __init__(self, path: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout

    @contextmanager
    def run(self) -> Iterator[None]:
        with file_lock(self.path, self.timeout):
            yield


@contextmanager
def file_lock(path: str, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """An inter-process lock on `path` (created if missing); reentrant within a process."""
    import filelock

    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # e.g. a regular file where a directory must be
        raise StoreConnectionError(
            f"cannot create the directory for the lock file {path}: {error}"
        ) from error
    lock = _file_locks.setdefault(path, filelock.FileLock(path, thread_local=False))
    holder = Path(path + ".holder")
    try:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            logger.warning("waiting up to %.0fs for %s, held by %s", timeout, path, _read(holder))
            lock.acquire(timeout=timeout)
    except filelock.Timeout as error:
        raise LockError(
            f"another run holds {path} for more than {timeout:.0f}s (held by {_read(holder)}); "
            "wait for it to finish, or remove the lock file if that process is gone"
        ) from error
    except OSError as error:
        raise StoreError(f"cannot take the lock file {path}: {error}") from error
    with held(lock.release, f"the lock file {path}"):
        if lock.lock_counter == 1:
            _write_holder(holder)
        yield


def _write_holder(holder: Path) -> None:
    """Say who holds the lock, for a run that has to wait (only a message depends on it)."""
    import datetime as dt
    import os
    import socket

    since = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    with contextlib.suppress(OSError):
        holder.write_text(f"pid {os.getpid()} on {socket.gethostname()} since {since}")


def _read(holder: Path) -> str:
    try:
        return holder.read_text().strip() or "another process"
    except OSError:
        return "another process (it left no note)"


_file_locks: dict[str, Any] = {}


@contextmanager
def held(release: Callable[[], object], what: str) -> Iterator[None]:
    """Run `release` when the block ends; if the block failed, a failing release is logged and
    the block's own error propagates."""
    try:
        yield
    except BaseException:
        try:
            release()
        except Exception as error:
            logger.warning("could not release %s after a failure: %s", what, error)
        raise
    try:
        release()
    except Exception as error:
        raise StoreError(f"could not release {what}: {error}") from error
