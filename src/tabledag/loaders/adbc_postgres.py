"""ADBC fast path: Arrow batches reach Postgres as binary COPY, with no Python work per row."""

from __future__ import annotations

from typing import TYPE_CHECKING

import adbc_driver_postgresql.dbapi as adbc_dbapi

from tabledag.loaders.postgres_types import (
    create_table_sql,
    prepare_arrow,
    query_body,
    restore_arrow,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from adbc_driver_manager.dbapi import Connection


def connect(uri: str, *, autocommit: bool = False) -> Connection:
    """DB-API connection; with autocommit off, loads commit only when the caller says so."""
    return adbc_dbapi.connect(uri, autocommit=autocommit)


def ingest(conn: Connection, schema: str, table: str, data: pa.Table) -> None:
    """Create ``schema.table`` and bulk-load ``data`` into it; does not commit.

    The table is created with our own quoted DDL rather than ``mode="create"``: ADBC would
    declare decimals as bare ``numeric`` and lose their precision and scale. The load itself
    is ``adbc_ingest(mode="append")``, which quotes names verbatim. ``schema`` must exist.
    """
    data = prepare_arrow(data)
    ddl = create_table_sql(schema, table, data.schema)
    with conn.cursor() as cursor:
        cursor.execute(ddl)
        if data.num_columns:
            cursor.adbc_ingest(table, data, mode="append", db_schema_name=schema)


def read(conn: Connection, sql: str, schema_hint: pa.Schema | None = None) -> pa.Table:
    """Run ``sql`` and return its result as Arrow (see ``restore_arrow`` for type repairs)."""
    with conn.cursor() as cursor:
        cursor.execute(query_body(sql))  # ADBC wraps it in COPY (...) TO STDOUT
        result = cursor.fetch_arrow_table()
    return restore_arrow(result, schema_hint)
