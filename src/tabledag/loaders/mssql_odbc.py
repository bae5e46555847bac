"""SQL Server over ODBC: statements through pyodbc, Arrow data in and out through arrow-odbc
(columnar parameter arrays and fetches), `bcp` or pyodbc's `fast_executemany`.

- One pyodbc connection per session runs the statements in autocommit mode; `begin()` turns
  autocommit off for the stage commit (SQL Server DDL is transactional), `commit()` back on.
  Each `execute()` is one batch, so `CREATE VIEW` is always alone in its batch.
- Loads go into a *load view* over the new table (`CREATE VIEW ... AS SELECT [col] AS [c0]...`,
  created by the dialect): arrow-odbc quotes only some reserved words in the INSERT it writes
  (a column named `by` or `order` fails), `bcp` is positional, and `c0..cN` are safe everywhere.
  An insert into a one-table view inserts into the table.
- Paths: "arrow-odbc" (fastest, its own connection opened on first use), "bcp" (when the
  `bcp` tool is on PATH; falls back to pyodbc for data it cannot spell: empty strings, which
  `bcp -k` would read as NULL, or separator characters), "pyodbc" (`fast_executemany`).
- Reads: arrow-odbc when installed (text and binary columns of unbounded size are fetched up
  to `MAX_TEXT` characters / `MAX_BINARY` bytes), else, or with the "pyodbc" path chosen,
  pyodbc rows turned into Arrow.

`odbc_settings` turns a `mssql+pyodbc://` URL into the ODBC connection string (and `bcp`'s
server arguments): the seed's URL works as written.

Everything imports lazily: `import tabledag` never needs an ODBC driver manager.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    import pyarrow as pa

MAX_TEXT = 1 << 16
"""Characters arrow-odbc fetches of an `NVARCHAR(MAX)` value (its buffers are sized by it)."""
MAX_BINARY = 1 << 20
CHUNK_ROWS = 50_000
SESSION_SETUP = ("SET NOCOUNT ON", "SET XACT_ABORT ON", "SET DATEFIRST 1")
"""Row counts would come back as result sets; an error inside the commit transaction aborts
all of it; ibis's T-SQL for `day_of_week` counts from Monday (ibis sets this on its own
connections, and it shares the session's)."""
_FIELD, _ROW = "\x1f", "\x1e"  # ASCII unit / record separators: bcp's field and row terminators


@functools.cache
def has_arrow_odbc() -> bool:
    try:
        import arrow_odbc  # noqa: F401  (loads libodbc: a missing driver manager is an ImportError)
    except (ImportError, OSError):
        return False
    return True


def quote(name: str) -> str:
    return "[" + name.replace("]", "]]") + "]"


class OdbcSession:
    """One SQL Server session; see the module docstring. `bcp` holds the command-line
    arguments naming the server (`-S host,port -d db -U user -P password ...`) for that path."""

    def __init__(
        self,
        connection_string: str,
        *,
        bulk: str,
        bcp: list[str] | None = None,
        setup: tuple[str, ...] = SESSION_SETUP,
        fast_executemany: bool = True,
    ) -> None:
        import pyodbc

        self.connection_string = connection_string
        self.bulk_driver = bulk
        self.bcp_args = bcp or []
        self.fast_executemany = fast_executemany  # parameter arrays: Microsoft's driver has them
        self.con = pyodbc.connect(connection_string, autocommit=True)
        self.con.add_output_converter(-155, _datetimeoffset)  # SQL_SS_TIMESTAMPOFFSET
        self._bulk: Any = None
        for sql in setup:
            self.execute(sql)

    @property
    def closed(self) -> bool:
        return bool(getattr(self.con, "closed", False))

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        """One batch; the rows of its last result set (none for DDL)."""
        cursor = self.con.cursor()
        try:
            cursor.execute(sql)
            rows: list[tuple[Any, ...]] = []
            while True:
                if cursor.description:
                    rows = [tuple(r) for r in cursor.fetchall()]
                if not cursor.nextset():
                    return rows
        finally:
            cursor.close()

    def begin(self) -> None:
        self.con.autocommit = False

    def commit(self) -> None:
        self.con.commit()
        self.con.autocommit = True

    def rollback(self) -> None:
        try:
            self.con.rollback()
        finally:
            self.con.autocommit = True

    # -- Arrow in -------------------------------------------------------------------------------

    def load(
        self,
        statements: list[str],
        view: tuple[str, str],
        data: pa.Table,
        checkpoint: Callable[[str], None],
    ) -> None:
        """Run `statements` (they create the table and its load view `view`), insert `data`
        through the view, drop the view."""
        for sql in statements:
            self.execute(sql)
            checkpoint(sql)
        data = plain_columns(data).rename_columns([f"c{i}" for i in range(data.num_columns)])
        name = f"{quote(view[0])}.{quote(view[1])}"
        driver = self.bulk_driver
        if driver == "bcp" and not bcp_can_spell(data):
            driver = "pyodbc"
        if driver == "arrow-odbc":
            import pyarrow as pa

            reader = pa.RecordBatchReader.from_batches(data.schema, data.to_batches(CHUNK_ROWS))
            self.arrow_connection.insert_into_table(reader, name, CHUNK_ROWS)
        elif driver == "bcp":
            self._bcp_in(name, data)
        else:
            self._executemany(name, data)
        checkpoint(f"LOAD {data.num_rows} rows via {driver}")
        drop = f"DROP VIEW IF EXISTS {name}"
        self.execute(drop)
        checkpoint(drop)

    def _executemany(self, name: str, data: pa.Table) -> None:
        columns = ", ".join(quote(c) for c in data.column_names)
        marks = ", ".join("?" for _ in data.column_names)
        cursor = self.con.cursor()
        try:
            cursor.fast_executemany = self.fast_executemany
            for batch in data.to_batches(CHUNK_ROWS):
                values = [_python_values(column) for column in batch.columns]
                cursor.executemany(
                    f"INSERT INTO {name} ({columns}) VALUES ({marks})",
                    list(zip(*values, strict=True)),
                )
        finally:
            cursor.close()

    def _bcp_in(self, name: str, data: pa.Table) -> None:
        with tempfile.TemporaryDirectory(prefix="tabledag_bcp_") as directory:
            path = os.path.join(directory, "data.txt")
            with open(path, "w", encoding="utf-8", newline="") as out:
                for batch in data.to_batches(CHUNK_ROWS):
                    columns = [_bcp_values(column) for column in batch.columns]
                    out.writelines(_FIELD.join(row) + _ROW for row in zip(*columns, strict=True))
            command = [
                bcp_path() or "bcp", name, "in", path, *self.bcp_args,
                "-c", "-C", "65001", "-t", _FIELD, "-r", _ROW, "-k", "-q", "-b", str(CHUNK_ROWS),
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                secret = _secret(self.bcp_args)
                message = (done.stdout + done.stderr).strip()[-2000:]
                if secret:
                    message = message.replace(secret, "***")
                raise RuntimeError(f"bcp failed ({done.returncode}): {message}")

    @property
    def arrow_connection(self) -> Any:
        """arrow-odbc's own connection, opened on first use (autocommit)."""
        if self._bulk is None:
            import arrow_odbc

            self._bulk = arrow_odbc.connect(self.connection_string, autocommit=True)
        return self._bulk

    # -- Arrow out ------------------------------------------------------------------------------

    def read_arrow(self, sql: str) -> pa.Table:
        import pyarrow as pa

        if self.bulk_driver != "pyodbc" and has_arrow_odbc():
            reader = self.arrow_connection.read_arrow_batches(
                sql, max_text_size=MAX_TEXT, max_binary_size=MAX_BINARY
            )
            return pa.Table.from_batches(list(reader), schema=reader.schema)
        cursor = self.con.cursor()
        try:
            cursor.execute(sql)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        finally:
            cursor.close()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        return pa.table({n: pa.array(list(c)) for n, c in zip(names, columns, strict=True)})

    def close(self) -> None:
        try:
            self._bulk = None  # arrow-odbc closes its connection when collected
        finally:
            self.con.close()


def odbc_settings(url: str) -> tuple[str, str, list[str]]:
    """(ODBC connection string, database, bcp server arguments) for a `mssql+pyodbc://` URL.

    `driver=` names the ODBC driver; `odbc_connect=` gives a whole connection string; other
    query arguments become connection attributes (`encrypt=no`, `TrustServerCertificate=yes`).
    """
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    database = unquote(parts.path.lstrip("/")) or "master"
    if "odbc_connect" in query:
        found = re.search(r"(?i)(?:^|;)\s*database\s*=\s*([^;]*)", query["odbc_connect"])
        return query["odbc_connect"], found.group(1) if found else database, []
    host = parts.hostname or "127.0.0.1"
    server = f"{host},{parts.port}" if parts.port else host
    attributes = {
        "DRIVER": query.pop("driver", "ODBC Driver 18 for SQL Server"),
        "SERVER": server,
        "DATABASE": database,
        "APP": "tabledag",
    }
    bcp = ["-S", server, "-d", database]
    if parts.username:
        attributes["UID"] = unquote(parts.username)
        attributes["PWD"] = unquote(parts.password or "")
        bcp += ["-U", attributes["UID"], "-P", attributes["PWD"]]
    else:
        attributes["Trusted_Connection"] = "yes"
        bcp += ["-T"]
    for key, value in query.items():
        attributes[{"encrypt": "Encrypt"}.get(key, key)] = value
    if attributes.get("Encrypt", "").lower() in ("no", "false", "optional"):
        bcp += ["-Yo"]
    if attributes.get("TrustServerCertificate", "").lower() == "yes":
        bcp += ["-u"]
    text = ";".join(
        f"{k}={{{v}}}" if k == "DRIVER" else f"{k}={_odbc_value(v)}" for k, v in attributes.items()
    )
    return text, database, bcp


def with_database(odbc: str, database: str) -> str:
    pattern = r"(?i)((?:^|;)\s*database\s*=)[^;]*"
    if re.search(pattern, odbc):
        return re.sub(pattern, lambda m: m.group(1) + _odbc_value(database), odbc)
    return f"{odbc};DATABASE={_odbc_value(database)}"


def _odbc_value(value: str) -> str:
    """An ODBC attribute value, braced where it holds `;`, `{`, `}` or spaces at its ends."""
    if re.search(r"[;{}]|^\s|\s$", value):
        return "{" + value.replace("}", "}}") + "}"
    return value


def plain_columns(data: pa.Table) -> pa.Table:
    """Dictionary, large and view columns as their plain types (what the ODBC writers bind);
    integers as the signed type of the column created for them (T-SQL's TINYINT is unsigned,
    and the other unsigned types have no column type), half floats as floats."""
    import pyarrow as pa

    wider: dict[pa.DataType, pa.DataType] = {
        pa.int8(): pa.int16(),
        pa.uint8(): pa.int16(),
        pa.uint16(): pa.int32(),
        pa.uint32(): pa.int64(),
        pa.uint64(): pa.decimal128(20, 0),
        pa.float16(): pa.float32(),
    }

    def plain(t: pa.DataType) -> pa.DataType:
        if pa.types.is_dictionary(t):
            return plain(t.value_type)
        if t in wider:
            return wider[t]
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return pa.string()
        if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
            return pa.binary()
        return t

    schema = pa.schema([f.with_type(plain(f.type)) for f in data.schema])
    return data if schema.equals(data.schema) else data.cast(schema)


def bcp_path() -> str | None:
    return shutil.which("bcp")


def bcp_can_spell(data: pa.Table) -> bool:
    """Whether character-mode bcp can carry `data` exactly: no empty strings (read as NULL
    with `-k`) and no separator characters inside strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for column in data.columns:
        if pa.types.is_string(column.type):
            if pc.any(pc.equal(column, pa.scalar(""))).as_py():
                return False
            if pc.any(pc.match_substring_regex(column, f"[{_FIELD}{_ROW}]")).as_py():
                return False
    return True


def _python_values(column: pa.Array) -> list[Any]:
    """Values pyodbc binds: aware timestamps as ISO text (it has no DATETIMEOFFSET binding)."""
    import pyarrow as pa

    values = column.to_pylist()
    if pa.types.is_timestamp(column.type) and column.type.tz:
        return [None if v is None else v.isoformat(sep=" ") for v in values]
    return values


def _bcp_values(column: pa.Array) -> list[str]:
    import pyarrow as pa

    t, values = column.type, column.to_pylist()
    if pa.types.is_boolean(t):
        return ["" if v is None else str(int(v)) for v in values]
    if pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t):
        return ["" if v is None else v.hex() for v in values]
    if pa.types.is_timestamp(t) and t.tz:
        return ["" if v is None else v.isoformat(sep=" ") for v in values]
    return ["" if v is None else str(v) for v in values]


def _secret(args: list[str]) -> str | None:
    return args[args.index("-P") + 1] if "-P" in args else None


def _datetimeoffset(value: bytes) -> dt.datetime:
    """pyodbc output converter for DATETIMEOFFSET (SQL type -155): a packed struct."""
    year, month, day, hour, minute, second, nanos, tz_h, tz_m = struct.unpack("<6hI2h", value)
    zone = dt.timezone(dt.timedelta(hours=tz_h, minutes=tz_m))
    return dt.datetime(year, month, day, hour, minute, second, nanos // 1000, zone)
