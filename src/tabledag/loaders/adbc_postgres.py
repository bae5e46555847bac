"""ADBC fast path: Arrow batches reach Postgres as binary COPY, with no Python work per row.

The driver (1.13) writes lists of primitive types as one-dimensional arrays and reads arrays
back as ``list<item: ...>`` (multi-dimensional ones flattened); only ``numeric[]`` needs help:
it arrives as text without its typmod, which ``read`` looks up with one extra LIMIT 0 query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import adbc_driver_postgresql.dbapi as adbc_dbapi
import pyarrow as pa

from tabledag.loaders.postgres_types import (
    array_typmod_query,
    create_table_sql,
    prepare_arrow,
    qualified_name,
    query_body,
    quote_ident,
    restore_arrow,
)

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Connection, Cursor

_TYPMOD = b"POSTGRESQL:typmod"


def connect(uri: str, *, autocommit: bool = False) -> Connection:
    """DB-API connection; with autocommit off, loads commit only when the caller says so."""
    return adbc_dbapi.connect(uri, autocommit=autocommit)


def ingest(conn: Connection, schema: str, table: str, data: pa.Table) -> None:
    """Create ``schema.table`` and bulk-load ``data`` into it; does not commit.

    The table is created with our own quoted DDL rather than ``mode="create"``: ADBC would
    declare decimals as bare ``numeric`` and lose their precision and scale. ``schema`` must
    exist. Columns Postgres cannot store raise ValueError before any SQL runs.
    """
    data = prepare_arrow(data)
    ddl = create_table_sql(schema, table, data.schema)
    with conn.cursor() as cursor:
        cursor.execute(ddl)
        _copy_in(cursor, schema, table, data)


def append(conn: Connection, schema: str, table: str, data: pa.Table) -> None:
    """Bulk-load ``data`` into the existing ``schema.table`` (columns matched by name, no DDL);
    does not commit. The table's column types should be those ``create_table_sql`` gives
    for ``data``: binary COPY does not convert, so another type fails inside the driver."""
    data = prepare_arrow(data)
    qualified_name(schema, table)  # same name checks as ingest, before any SQL runs
    for name in data.column_names:
        quote_ident(name, "column")
    with conn.cursor() as cursor:
        _copy_in(cursor, schema, table, data)


def _copy_in(cursor: Cursor, schema: str, table: str, data: pa.Table) -> None:
    """``adbc_ingest(mode="append")``: binary COPY with the column names quoted verbatim."""
    if data.num_columns:
        cursor.adbc_ingest(table, data, mode="append", db_schema_name=schema)


def read(conn: Connection, sql: str, schema_hint: pa.Schema | None = None) -> pa.Table:
    """Run ``sql`` and return its result as Arrow (see ``restore_arrow`` for type repairs)."""
    body = query_body(sql)
    with conn.cursor() as cursor:
        cursor.execute(body)  # ADBC wraps it in COPY (...) TO STDOUT
        result = cursor.fetch_arrow_table()
        result = _with_numeric_array_typmods(cursor, body, result)
    return restore_arrow(result, schema_hint)


def _with_numeric_array_typmods(cursor: Cursor, body: str, result: pa.Table) -> pa.Table:
    """Copy each ``numeric[]`` column's typmod into its field metadata for ``restore_arrow``."""
    indexes = [
        i
        for i, field in enumerate(result.schema)
        if (field.metadata or {}).get(b"POSTGRESQL:type") == b"_numeric"
    ]
    if not indexes:
        return result
    cursor.execute(array_typmod_query(body, result.num_columns, indexes))
    elements = cursor.fetch_arrow_table().schema
    schema = result.schema
    for position, i in enumerate(indexes):
        typmod = (elements.field(position).metadata or {}).get(_TYPMOD)
        if typmod is not None:
            field = schema.field(i)
            # ADBC fields always carry the driver's metadata; with_metadata takes any mapping
            metadata = {**field.metadata, _TYPMOD: typmod}  # type: ignore[dict-item]
            schema = schema.set(i, field.with_metadata(metadata))  # type: ignore[arg-type]
    return pa.Table.from_arrays(result.columns, schema=schema)
