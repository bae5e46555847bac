"""SQL Server application locks (`sp_getapplock`), the sibling of Postgres advisory locks.

The locks are owned by the *session* (`@LockOwner = 'Session'`), not a transaction, so they
outlive the commits made on their connection and go away with it, as advisory locks do; the
`AdvisoryLocks` machinery (advisory.py) holds them on a connection of its own. A lock is named
`tabledag_<16 hex digits>` after the same 64-bit key, which fits the 32 characters SQL Server
shows of a resource name in `sys.dm_tran_locks` (so `holders` can find it).

`sp_getapplock` returns a status instead of raising: >= 0 granted, -1 timed out, -2 cancelled,
-3 deadlock victim, -999 bad call. A wait that does not end in a grant raises error 50000 with
`TIMEOUT_MESSAGE`, which `is_timeout` recognises. (A session holding the run lease shared may
take it exclusively too, converting it; SQL Server keeps the stronger mode until the session
releases both, which only matters once the run ends.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import DEFAULT_TIMEOUT
from .advisory import AdvisoryLocks

TIMEOUT_MESSAGE = "tabledag: application lock not granted"


class AppLockSql:
    """The statements (T-SQL batches, rendered) behind `AdvisoryLocks` on SQL Server."""

    def resource(self, key: int) -> str:
        return f"tabledag_{key & 0xFFFFFFFFFFFFFFFF:016x}"

    def _get(self, key: int, shared: bool, timeout_ms: int) -> str:
        mode = "Shared" if shared else "Exclusive"
        return (
            "DECLARE @status INT; EXEC @status = sp_getapplock "
            f"@Resource = N'{self.resource(key)}', @LockMode = '{mode}', "
            f"@LockOwner = 'Session', @LockTimeout = {timeout_ms};"
        )

    def try_lock(self, key: int, *, shared: bool = False) -> str:
        """One row `(granted,)`: 1 if granted at once, else 0."""
        return self._get(key, shared, 0) + " SELECT CASE WHEN @status >= 0 THEN 1 ELSE 0 END"

    def lock(self, key: int, *, shared: bool, timeout: float) -> list[str]:
        wait = max(1, int(timeout * 1000))  # -1 would wait forever
        return [
            self._get(key, shared, wait)
            + f" IF @status < 0 RAISERROR('{TIMEOUT_MESSAGE} (status %d)', 16, 1, @status)"
        ]

    def holders(self, key: int) -> str:
        """Rows `(session id, program, client address, host, login time)` of the holders."""
        return (
            "SELECT s.session_id, s.program_name, c.client_net_address, s.host_name, "
            "s.login_time FROM sys.dm_tran_locks AS l "
            "JOIN sys.dm_exec_sessions AS s ON s.session_id = l.request_session_id "
            "LEFT JOIN sys.dm_exec_connections AS c ON c.session_id = s.session_id "
            "WHERE l.resource_type = 'APPLICATION' AND l.request_status = 'GRANT' "
            "AND l.resource_database_id = DB_ID() "
            f"AND CHARINDEX(N':[{self.resource(key)}]:', l.resource_description) > 0"
        )

    def unlock(self, key: int, *, shared: bool) -> str:
        return f"EXEC sp_releaseapplock @Resource = N'{self.resource(key)}', @LockOwner = 'Session'"

    def is_timeout(self, error: BaseException) -> bool:
        cause: BaseException | None = error
        while cause is not None:
            if TIMEOUT_MESSAGE in str(cause):
                return True
            cause = cause.__cause__
        return False


def app_locks(
    connect: Callable[[], Any], scope: tuple[str, ...], timeout: float = DEFAULT_TIMEOUT
) -> AdvisoryLocks:
    """Run, stage and setup locks of one instance as application locks; `connect` opens an
    autocommit connection with `execute(sql) -> rows`, `closed` and `close()`."""
    return AdvisoryLocks(connect, AppLockSql(), scope, timeout)
