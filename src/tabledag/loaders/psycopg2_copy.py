"""psycopg2 fallback: Arrow moves as CSV through COPY, so no ADBC and no Python work per row.

Writing: pyarrow's CSV writer quotes every string, so an empty string is ``""`` while NULL is
an empty unquoted field, which is exactly how Postgres CSV tells them apart; no NULL marker can
collide with data. Columns CSV cannot carry as-is are converted first with vectorised code:
bytea as ``\\x`` hex, timestamptz in UTC, intervals as explicit units. Reading: the query is
wrapped in a projection that makes the text unambiguous (bytea as hex, timestamptz at UTC,
time and interval as integers) and parsed with ``pyarrow.csv`` using types from the result OIDs.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import psycopg2
import psycopg2.extensions
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from tabledag.loaders.postgres_types import (
    create_table_sql,
    decimal_from_text,
    interval_from_parts,
    interval_parts,
    prepare_arrow,
    qualified_name,
    query_body,
    quote_ident,
    restore_arrow,
)

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

BATCH_ROWS = 65_536  # rows encoded to CSV at a time: bounds memory while loading
_COPY_READ_SIZE = 1 << 20
_PIPE_BUFFER = 1 << 20
_WRITE_OPTIONS = pa_csv.WriteOptions(include_header=False)

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", np.uint8)
_HEX_PAIRS = np.stack([_HEX_DIGITS[np.arange(256) >> 4], _HEX_DIGITS[np.arange(256) & 15]], 1)
_NIBBLES = np.zeros(256, np.uint8)
_NIBBLES[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16)
_NIBBLES[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)

# Result type OIDs read straight from CSV text, and the Arrow type the text parses to.
_PARSED = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    26: pa.int64(),  # oid is unsigned 32-bit
    700: pa.float32(),
    701: pa.float64(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
}
_BYTEA, _JSON, _JSONB, _NUMERIC, _TIME, _TIMESTAMPTZ, _INTERVAL, _UUID = (
    17, 114, 3802, 1700, 1083, 1184, 1186, 2950
)  # fmt: skip


# ---------------------------------------------------------------- write


def connect(uri: str, *, autocommit: bool = False) -> Connection:
    """A psycopg2 connection, as `adbc_postgres.connect` gives an ADBC one."""
    conn = psycopg2.connect(uri)
    conn.autocommit = autocommit
    return conn


def ingest(conn: Connection, schema: str, table: str, data: pa.Table) -> None:
    """Create ``schema.table`` with quoted DDL and COPY ``data`` into it as CSV; does not commit."""
    data = prepare_arrow(data)
    ddl = create_table_sql(schema, table, data.schema)
    with conn.cursor() as cursor:
        cursor.execute(ddl)
        if data.num_rows and data.num_columns:
            columns = ", ".join(quote_ident(name, "column") for name in data.column_names)
            copy = (
                f"COPY {qualified_name(schema, table)} ({columns}) "
                "FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')"
            )
            cursor.copy_expert(copy, _CsvSource(data), size=_COPY_READ_SIZE)


class _CsvSource:
    """File-like for ``copy_expert``: encodes one record batch at a time as it is read."""

    def __init__(self, data: pa.Table) -> None:
        self._encoders = [_csv_encoder(field.type) for field in data.schema]
        self._names = [f"c{i}" for i in range(data.num_columns)]
        self._batches = iter(data.to_batches(max_chunksize=BATCH_ROWS))
        self._pending = io.BytesIO()

    def read(self, size: int = -1) -> bytes:
        while True:
            chunk = self._pending.read(size)
            if chunk:
                return chunk
            batch = next(self._batches, None)
            if batch is None:
                return b""
            arrays = [enc(col) for enc, col in zip(self._encoders, batch.columns, strict=True)]
            self._pending = io.BytesIO()
            pa_csv.write_csv(
                pa.RecordBatch.from_arrays(arrays, names=self._names),
                self._pending,
                _WRITE_OPTIONS,
            )
            self._pending.seek(0)


def _csv_encoder(t: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    """How one prepared column becomes text Postgres CSV input parses back to the same value."""
    if pa.types.is_timestamp(t) and t.tz is not None:
        # Zone-aware values are UTC instants; formatting them naive plus "Z" is ~10x faster
        # than pyarrow's zone-aware CSV formatting and does not depend on the session TimeZone.
        naive = pa.timestamp(t.unit)
        return lambda a: _join(a.cast(naive).cast(pa.string()), "Z")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return _bytea_hex
    if pa.types.is_duration(t):  # prepared to microseconds
        return lambda a: _join(a.cast(pa.int64()).cast(pa.string()), " microseconds")
    if pa.types.is_interval(t):
        return _interval_text
    return lambda a: a


def _bytea_hex(values: pa.Array) -> pa.Array:
    """Binary -> bytea hex input text (``\\x0aff``), vectorised with numpy."""
    n = len(values)
    wide = pa.types.is_large_binary(values.type)
    offsets = np.frombuffer(values.buffers()[1], np.int64 if wide else np.int32)
    offsets = offsets[values.offset : values.offset + n + 1]
    data = _data_bytes(values, offsets)
    relative = offsets.astype(np.int64) - offsets[0]
    hexed = _HEX_PAIRS[data].ravel()
    prefixes = np.repeat(2 * relative[:-1], 2)
    text = np.insert(hexed, prefixes, np.tile(np.frombuffer(b"\\x", np.uint8), n))
    new_offsets = 2 * relative + 2 * np.arange(n + 1)
    return _from_offsets(values, new_offsets, text, pa.string(), pa.large_string())


def _interval_text(values: pa.Array) -> pa.Array:
    parts = interval_parts(values)
    fields = [
        pa.array(parts["months"]).cast(pa.string()),
        pa.array(parts["days"]).cast(pa.string()),
        pa.array(parts["nanos"] // 1000).cast(pa.string()),
    ]
    text = pc.binary_join_element_wise(
        fields[0], " mons ", fields[1], " days ", fields[2], " microseconds", ""
    )
    return pc.if_else(values.is_valid(), text, None)


def _join(values: pa.Array, suffix: str) -> pa.Array:
    return pc.binary_join_element_wise(values, suffix, "")


# ---------------------------------------------------------------- read


def read(conn: Connection, sql: str, schema_hint: pa.Schema | None = None) -> pa.Table:
    """Run ``sql`` through ``COPY (...) TO STDOUT`` and parse it with the result's column types."""
    body = query_body(sql)
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT * FROM (\n{body}) AS q LIMIT 0")
        description = cursor.description
    if not description:
        return pa.table({})
    columns = [_ResultColumn(i, col) for i, col in enumerate(description)]
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    projection = ", ".join(expr for col in columns for expr in col.expressions)
    copy = (
        f"COPY (SELECT {projection} FROM (\n{body}) AS q({aliases})) "
        "TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')"
    )
    with _TextOutputSettings(conn):
        parsed = _stream_copy_out(conn, copy, lambda source: _parse_csv(source, columns))
    arrays = [col.finish(parsed) for col in columns]
    table = pa.Table.from_arrays(arrays, names=[col.name for col in columns])
    return restore_arrow(table, schema_hint)


class _ResultColumn:
    """One result column: the SQL that renders it as CSV and how to turn that into Arrow."""

    def __init__(self, index: int, description: psycopg2.extensions.Column) -> None:
        self.name = description.name
        self.oid = description.type_code
        self.precision, self.scale = _numeric_modifiers(description)
        alias = f"c{index}"
        self.csv_names = [alias]
        if self.oid == _BYTEA:
            self.expressions = [f"encode({alias}, 'hex')"]
        elif self.oid == _UUID:
            self.expressions = [f"encode(uuid_send({alias}), 'hex')"]
        elif self.oid == _TIMESTAMPTZ:
            self.expressions = [f"{alias} AT TIME ZONE 'UTC'"]
        elif self.oid == _TIME:  # as microseconds: text '24:00:00' is valid SQL, not Arrow
            self.expressions = [f"(EXTRACT(EPOCH FROM {alias}) * 1000000)::int8"]
        elif self.oid == _INTERVAL:
            self.csv_names = [f"{alias}_months", f"{alias}_days", f"{alias}_micros"]
            self.expressions = [
                f"(EXTRACT(YEAR FROM {alias}) * 12 + EXTRACT(MONTH FROM {alias}))::int4",
                f"EXTRACT(DAY FROM {alias})::int4",
                f"(EXTRACT(HOUR FROM {alias}) * 3600000000 + EXTRACT(MINUTE FROM {alias})"
                f" * 60000000 + EXTRACT(MICROSECONDS FROM {alias}))::int8",
            ]
        else:
            self.expressions = [alias]

    @property
    def csv_types(self) -> list[pa.DataType]:
        if self.oid == _INTERVAL:
            return [pa.int32(), pa.int32(), pa.int64()]
        if self.oid == _TIMESTAMPTZ:
            return [pa.timestamp("us")]
        if self.oid == _TIME:
            return [pa.int64()]
        return [_PARSED.get(self.oid, pa.string())]

    def finish(self, parsed: pa.Table) -> pa.ChunkedArray:
        first = parsed.column(self.csv_names[0])
        if self.oid == _INTERVAL:
            months, days, micros = (parsed.column(n).combine_chunks() for n in self.csv_names)
            return pa.chunked_array([interval_from_parts(months, days, micros)])
        if self.oid == _TIMESTAMPTZ:
            return first.cast(pa.timestamp("us", "UTC"))  # values are already UTC
        if self.oid == _TIME:
            return first.cast(pa.time64("us"))
        if self.oid == _BYTEA:
            return _chunkwise(first, _unhex)
        if self.oid == _UUID:
            return _chunkwise(first, _uuid_from_hex)
        if self.oid == _NUMERIC:
            return decimal_from_text(first, self.precision, self.scale)
        if self.oid in (_JSON, _JSONB):  # what ADBC returns for json/jsonb
            return _chunkwise(first, lambda a: pa.ExtensionArray.from_storage(pa.json_(), a))
        return first


def _numeric_modifiers(description: psycopg2.extensions.Column) -> tuple[int | None, int | None]:
    """psycopg2 splits PQfmod into precision/scale; 65535 means unconstrained numeric."""
    if description.type_code != _NUMERIC or description.precision in (None, 65535):
        return None, None
    scale = description.scale or 0
    return description.precision, ((scale & 0x7FF) ^ 0x400) - 0x400  # negative scales (PG 15)


class _TextOutputSettings:
    """Temporarily force the session settings CSV parsing relies on, then put them back.

    DateStyle must be ISO and extra_float_digits >= 1 (shortest exact floats). If the read
    fails inside a transaction the caller's rollback undoes the SET; otherwise we restore.
    """

    _QUERY = "SELECT current_setting('DateStyle'), current_setting('extra_float_digits')"

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._restore: dict[str, str] = {}

    def __enter__(self) -> None:
        with self._conn.cursor() as cursor:
            cursor.execute(self._QUERY)
            date_style, float_digits = cursor.fetchone()
            if not date_style.upper().startswith("ISO"):
                self._restore["DateStyle"] = date_style
            if int(float_digits) < 1:
                self._restore["extra_float_digits"] = float_digits
            wanted = {"DateStyle": "ISO", "extra_float_digits": "1"}
            _set_config(cursor, {name: wanted[name] for name in self._restore})

    def __exit__(self, *exc_info: object) -> None:
        status = self._conn.info.transaction_status
        if self._restore and status != psycopg2.extensions.TRANSACTION_STATUS_INERROR:
            with self._conn.cursor() as cursor:
                _set_config(cursor, self._restore)


def _set_config(cursor: psycopg2.extensions.cursor, values: dict[str, str]) -> None:
    for name, value in values.items():
        cursor.execute("SELECT set_config(%s, %s, false)", (name, value))


def _stream_copy_out(
    conn: Connection, copy: str, parse: Callable[[io.BufferedReader], pa.Table]
) -> pa.Table:
    """Parse COPY output while it still arrives: server, psycopg2 and parser overlap (~1.5x).

    psycopg2 writes the rows into a pipe from a helper thread; the CSV reader consumes the
    other end. Closing our end when parsing stops early unblocks the writer. A database error
    wins over the parse error it causes (a truncated stream); a parse error wins over the
    broken pipe it causes.
    """
    read_fd, write_fd = os.pipe()
    source = os.fdopen(read_fd, "rb")
    sink = os.fdopen(write_fd, "wb", buffering=_PIPE_BUFFER)
    failures: list[BaseException] = []

    def produce() -> None:
        try:
            with conn.cursor() as cursor:
                cursor.copy_expert(copy, sink)
        except BaseException as exc:  # re-raised in the calling thread
            failures.append(exc)
        finally:
            with contextlib.suppress(OSError):
                sink.close()

    producer = threading.Thread(target=produce, name="tabledag-copy-out", daemon=True)
    producer.start()
    parse_error: Exception | None = None
    try:
        table = parse(source)
    except Exception as exc:
        parse_error = exc
    finally:
        source.close()
        producer.join()
    if failures and not (parse_error is not None and isinstance(failures[0], OSError)):
        raise failures[0]
    if parse_error is not None:
        raise parse_error
    return table


def _parse_csv(source: io.BufferedReader, columns: list[_ResultColumn]) -> pa.Table:
    names = [name for col in columns for name in col.csv_names]
    types = dict(zip(names, (t for col in columns for t in col.csv_types), strict=True))
    if not source.peek(1):  # no rows: pyarrow refuses an empty CSV
        return pa.table({name: pa.array([], t) for name, t in types.items()})
    return pa_csv.read_csv(
        source,
        read_options=pa_csv.ReadOptions(column_names=names),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pa_csv.ConvertOptions(
            column_types=types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # "" is an empty string, not NULL
            true_values=["t"],
            false_values=["f"],
        ),
    )


def _chunkwise(column: pa.ChunkedArray, convert: Callable[[pa.Array], pa.Array]):
    chunks = [convert(chunk) for chunk in column.chunks]
    if not chunks:
        return pa.chunked_array([], convert(pa.array([], column.type)).type)
    return pa.chunked_array(chunks)


def _unhex(values: pa.Array) -> pa.Array:
    """Hex text (from ``encode(x, 'hex')``) -> binary, vectorised with numpy."""
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], np.int32)[values.offset : values.offset + n + 1]
    digits = _NIBBLES[_data_bytes(values, offsets)].reshape(-1, 2)
    data = (digits[:, 0] << 4) | digits[:, 1]
    return _from_offsets(values, (offsets - offsets[0]) // 2, data, pa.binary(), pa.binary())


def _uuid_from_hex(values: pa.Array) -> pa.Array:
    """32 hex digits per uuid -> Arrow's uuid extension (16-byte fixed-size binary)."""
    raw = _unhex(values)
    valid = np.asarray(raw.is_valid(), dtype=bool)
    data = np.zeros((len(raw), 16), np.uint8)
    offsets = np.frombuffer(raw.buffers()[1], np.int32)[raw.offset : raw.offset + len(raw) + 1]
    data[valid] = _data_bytes(raw, offsets).reshape(-1, 16)
    validity = pc.is_valid(raw).buffers()[1] if raw.null_count else None
    storage = pa.Array.from_buffers(
        pa.binary(16), len(raw), [validity, pa.py_buffer(data)], null_count=raw.null_count
    )
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)


def _data_bytes(values: pa.Array, offsets: np.ndarray) -> np.ndarray:
    buffer = values.buffers()[2]
    if buffer is None or offsets[-1] == offsets[0]:
        return np.zeros(0, np.uint8)
    return np.frombuffer(buffer, np.uint8)[offsets[0] : offsets[-1]]


def _from_offsets(
    like: pa.Array,
    offsets: np.ndarray,
    data: np.ndarray,
    small: pa.DataType,
    large: pa.DataType,
) -> pa.Array:
    """Variable-width array with ``like``'s validity bitmap (and offset) and new values."""
    wide = offsets[-1] > np.iinfo(np.int32).max
    padded = np.zeros(like.offset + len(offsets), np.int64 if wide else np.int32)
    padded[like.offset :] = offsets  # leading zeros keep the validity bitmap's offset valid
    return pa.Array.from_buffers(
        large if wide else small,
        len(like),
        [like.buffers()[0], pa.py_buffer(padded), pa.py_buffer(np.ascontiguousarray(data))],
        null_count=like.null_count,
        offset=like.offset,
    )
