"""Database advisory locks, on a connection of their own (the SQL comes from the dialect).

The connection is separate from every session's, so the driving process can hold the locks
while sessions (threads, workers) come and go. A lock is a 64-bit key derived from
(database, instance, metadata schema, name), stable across processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from ..errors import LockError, StoreError
from . import DEFAULT_TIMEOUT, Locks, held

logger = logging.getLogger("tabledag.locks")


class LockSql(Protocol):
    """The statements a dialect supplies for advisory locks (rendered SQL text)."""

    def lock(self, key: int, *, shared: bool, timeout: float) -> list[str]: ...
    def try_lock(self, key: int, *, shared: bool = False) -> str: ...
    def holders(self, key: int) -> str: ...
    def unlock(self, key: int, *, shared: bool) -> str: ...
    def is_timeout(self, error: BaseException) -> bool: ...


class AdvisoryLocks(Locks):
    def __init__(
        self,
        connect: Callable[[], Any],
        sql: LockSql,
        scope: tuple[str, ...],
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._connect = connect
        self._sql = sql
        self._scope = scope
        self.timeout = timeout
        self._conn: Any = None

    @property
    def connection(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _key(self, name: str) -> int:
        digest = hashlib.blake2b("\x00".join((*self._scope, name)).encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big", signed=True)

    @contextmanager
    def _hold(self, name: str, what: str, *, shared: bool = False) -> Iterator[None]:
        key = self._key(name)
        connection = self.connection  # a failure to connect is a StoreConnectionError as it is
        holders = ""
        try:
            ((free,),) = connection.execute(self._sql.try_lock(key, shared=shared))
            if not free:
                holders = self._holders(key)
                logger.warning(
                    "waiting up to %.0fs for %s, held by %s", self.timeout, what, holders
                )
                for statement in self._sql.lock(key, shared=shared, timeout=self.timeout):
                    connection.execute(statement)
        except Exception as error:
            if self._sql.is_timeout(error):
                raise LockError(
                    f"{what} stayed locked by another run for {self.timeout:.0f}s (held by "
                    f"{self._holders(key) or holders}); wait for it to finish or raise "
                    "lock_timeout"
                ) from error
            raise StoreError(f"could not lock {what}: {type(error).__name__}: {error}") from error
        unlock = self._sql.unlock(key, shared=shared)
        with held(lambda: self._release(connection, unlock, what), what):
            yield

    def _holders(self, key: int) -> str:
        """Who holds `key`, for a person to find them: pid, application, host, since when."""
        try:
            rows = self.connection.execute(self._sql.holders(key))
        except Exception as error:  # only a message is at stake
            return f"another session (could not say which: {type(error).__name__})"
        found = [
            f"pid {pid} ({app or 'no application name'} from "
            f"{host or addr or 'a local socket'}, connected {str(start)[:19]})"
            for pid, app, addr, host, start in rows
        ]
        return ", ".join(found) or "a session that has just released it"

    def _release(self, connection: Any, unlock: str, what: str) -> None:
        """Unlock on `connection`; if the connection was lost, the server released its locks
        with it, so there is nothing to release (and no error to raise over the run's own)."""
        try:
            connection.execute(unlock)
        except Exception as error:
            if not getattr(connection, "closed", False):
                raise
            if self._conn is connection:
                self._conn = None
            logger.warning("%s was released with its lost connection (%s)", what, error)

    def statements(self, name: str, *, shared: bool = False) -> list[str]:
        """Every statement holding lock `name` may send, in order: try, wait, ask who holds
        it, release (golden-SQL tests check them where no server runs)."""
        key = self._key(name)
        return [
            self._sql.try_lock(key, shared=shared),
            *self._sql.lock(key, shared=shared, timeout=self.timeout),
            self._sql.holders(key),
            self._sql.unlock(key, shared=shared),
        ]

    @property
    def _instance(self) -> str:
        return self._scope[1] if len(self._scope) > 1 else self._scope[0]

    def run(self) -> Any:
        return self._hold("__run__", f"instance {self._instance!r}", shared=True)

    def stage(self, stage: str) -> Any:
        return self._hold(f"stage:{stage}", f"stage {stage!r} of instance {self._instance!r}")

    def setup(self) -> Any:
        return self._hold("__setup__", f"the metadata of instance {self._instance!r}")

    @contextmanager
    def cleanup(self) -> Iterator[bool]:
        """Exclusive on the run lease without waiting: granted only if no other run holds it
        (a session never conflicts with its own shared lease)."""
        key = self._key("__run__")
        try:
            ((alone,),) = self.connection.execute(self._sql.try_lock(key))
        except Exception as error:
            raise StoreError(f"could not check for other runs: {error}") from error
        if not alone:
            yield False
            return
        unlock = self._sql.unlock(key, shared=False)
        connection, what = self.connection, "the cleanup lock"
        with held(lambda: self._release(connection, unlock, what), what):
            yield True

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):  # a dead connection released its locks with it
                conn.close()
