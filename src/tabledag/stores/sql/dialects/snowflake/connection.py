"""The snowflake-connector-python session behind the Snowflake dialect.

- Bulk load: the Arrow data is written to one parquet file, `PUT` into a temporary stage and
  loaded with `COPY INTO ... MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE` (what `write_pandas`
  does, without the detour through pandas; on a real account this is the fast path: parquet
  is uploaded compressed and the warehouse loads it in parallel). `write_pandas` itself is not
  used: connector 4.x's upload flow fails against fakesnow, and it needs a pandas copy.
- Reads: `fetch_arrow_all` (the connector's Arrow result batches), with column names folded
  back to lower case (see `names`).
- The connector runs in autocommit mode; `begin()` opens the metadata transaction explicitly.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...dialect import Connection
from .names import fold, unfold

if TYPE_CHECKING:
    import pyarrow as pa


STAGE = "tabledag_load"
"""The temporary stage files are PUT into, one per session and schema; each load uses a path
of its own in it and purges its file."""


class SnowflakeConnection(Connection):
    """One connector session; `quote` renders a (folded) quoted identifier."""

    def __init__(self, con: Any, quote: Callable[[str], str]) -> None:
        self.con = con
        self._quote = quote
        self._stages: dict[str, str] = {}

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self.con.cursor()
        try:
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def load_arrow(
        self,
        statements: list[str],
        source: str,
        target: tuple[str, str],
        data: pa.Table,
        checkpoint: Callable[[str], None],
    ) -> None:
        import pyarrow.parquet as pq

        for sql in statements:
            self.execute(sql)
            checkpoint(sql)
        stage = self._stage(target[0])
        renamed = data.rename_columns([fold(name) for name in data.column_names])
        with tempfile.TemporaryDirectory(prefix="tabledag-snowflake-") as directory:
            path = os.path.join(directory, f"{source}.parquet")
            pq.write_table(renamed, path, compression="snappy")
            steps = [
                f"PUT 'file://{path.replace(os.sep, '/')}' @{stage}/{source} AUTO_COMPRESS = FALSE",
                f"COPY INTO {self._quote(target[0])}.{self._quote(target[1])} "
                f"FROM @{stage}/{source} "
                "FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE BINARY_AS_TEXT = FALSE) "
                "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE PURGE = TRUE",
            ]
            for sql in steps:
                self.execute(sql)
                checkpoint(sql)

    def _stage(self, schema: str) -> str:
        """This session's temporary stage in `schema` (it ends with the session)."""
        stage = self._stages.get(schema)
        if stage is None:
            stage = f"{self._quote(schema)}.{self._quote(STAGE)}"
            self.execute(f"CREATE TEMPORARY STAGE IF NOT EXISTS {stage}")
            self._stages[schema] = stage
        return stage

    def read_arrow(self, sql: str) -> pa.Table:
        cursor = self.con.cursor()
        try:
            cursor.execute(sql)
            result = cursor.fetch_arrow_all(force_return_table=True)
        finally:
            cursor.close()
        table: pa.Table = result  # the connector is untyped
        return table.rename_columns([unfold(name) for name in table.column_names])

    def close(self) -> None:
        self.con.close()


def connect(kwargs: dict[str, Any]) -> Any:
    """A connector connection (autocommit) for `kwargs` (see `Snowflake.connect_kwargs`)."""
    import snowflake.connector

    return snowflake.connector.connect(**kwargs, autocommit=True)
