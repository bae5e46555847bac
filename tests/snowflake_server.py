"""A fake Snowflake for the `snowflake` store target: fakesnow's server mode, so the real
snowflake-connector-python talks to it over loopback (HTTP on 127.0.0.1), one server per test
process (xdist workers each start their own), one database per test.

fakesnow is installed only in the Snowflake environment (`nox -s tests_snowflake`, the
`.ci-venv-snowflake` step of `.ci/run`): it pins its own duckdb and sqlglot.

One fakesnow bug is worked around here, not in tabledag: fakesnow looks for session variables
(`$name`) with a regular expression over the whole statement text, string literals included,
so any literal holding `$word` (tabledag's metadata JSON has `"$table"`) fails with "Session
variable '$TABLE' does not exist". Real Snowflake substitutes variables only outside literals;
the patch below restricts fakesnow's check to the text outside single-quoted literals.
"""

from __future__ import annotations

import re
import threading
from typing import Any

_LITERAL = re.compile(r"'(?:[^'\\]|\\.|'')*'", re.DOTALL)
_lock = threading.Lock()
_server: list[Any] = []
"""[(context manager, connection kwargs)] once started."""


def available() -> str | None:
    """Why the fake cannot run here, or None."""
    try:
        import fakesnow  # noqa: F401
        import snowflake.connector  # noqa: F401
    except ImportError as error:
        return (
            f"fakesnow or snowflake-connector-python is not installed ({error}); the Snowflake "
            "tests run in their own environment: nox -s tests_snowflake"
        )
    return None


def _patch_variables() -> None:
    import snowflake.connector.errors
    from fakesnow.variables import Variables

    if getattr(Variables.inline_variables, "tabledag_patched", False):
        return

    def inline_variables(self: Any, sql: str) -> str:
        parts = _LITERAL.split(sql)
        literals = _LITERAL.findall(sql)
        for name, value in self._variables.items():
            parts = [re.sub(rf"\${name}", value, p, flags=re.IGNORECASE) for p in parts]
        for part in parts:
            if found := re.search(r"(?<![\$\w])\$(?!\d+)\w+", part):
                raise snowflake.connector.errors.ProgrammingError(
                    msg=f"Session variable '{found.group().upper()}' does not exist"
                )
        out = [parts[0]]
        for literal, part in zip(literals, parts[1:], strict=True):
            out += [literal, part]
        return "".join(out)

    inline_variables.tabledag_patched = True  # type: ignore[attr-defined]
    Variables.inline_variables = inline_variables  # type: ignore[method-assign]


def connection_kwargs() -> dict[str, Any]:
    """Connector arguments for this process's fake server (started on first use)."""
    with _lock:
        if not _server:
            import fakesnow

            _patch_variables()
            manager = fakesnow.server()
            kwargs = manager.__enter__()
            import atexit

            atexit.register(manager.__exit__, None, None, None)
            _server.append(kwargs)
        return dict(_server[0])


def url(database: str) -> str:
    """A `snowflake://` URL of the seed's form for `database` on the fake server."""
    kw = connection_kwargs()
    return (
        f"snowflake://{kw['user']}:{kw['password']}@{kw['account']}/{database}"
        f"?host={kw['host']}&port={kw['port']}&protocol={kw['protocol']}&network_timeout=5"
    )
