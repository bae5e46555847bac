"""psycopg2 fallback: Arrow moves as CSV through COPY, so no ADBC and no Python work per row.

Writing: pyarrow's CSV writer quotes every string, so an empty string is ``""`` while NULL is
an empty unquoted field, which is exactly how Postgres CSV tells them apart; no NULL marker can
collide with data. Columns CSV cannot carry as-is are converted first with vectorised code:
bytea as ``\\x`` hex, timestamptz in UTC, intervals as explicit units, lists as array literals
(``{1,NULL,3}``, strings quoted and escaped). Reading: the query is wrapped in a projection
that makes the text unambiguous (bytea as hex, timestamptz at UTC, time and interval as
integers) and parsed with ``pyarrow.csv`` using types from the result OIDs; arrays of the
element types we write are split into lists by one numpy pass over their text.
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
    array_typmod_query,
    create_table_sql,
    decimal_from_text,
    interval_from_parts,
    interval_parts,
    list_from_parts,
    list_parts,
    map_list_values,
    prepare_arrow,
    qualified_name,
    query_body,
    quote_ident,
    restore_arrow,
)

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

# Why the `# type: ignore`s below: pyarrow-stubs have no overloads for the Python scalars (str)
# that compute functions (pc.*) accept ("stubs"); numpy arrays and pa.Buffer are buffers, but
# typing them as such for np.frombuffer and pa.py_buffer needs Python 3.12 ("PEP 688").

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
_PARSED: dict[int, pa.DataType] = {
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
# Array type OIDs split into lists, and their element type (None: numeric, typmod-dependent).
# Other arrays (bytea[], interval[], ...) stay text, as other unknown types do.
_ARRAYS: dict[int, pa.DataType | None] = {
    1000: pa.bool_(),
    1005: pa.int16(),
    1007: pa.int32(),
    1016: pa.int64(),
    1021: pa.float32(),
    1022: pa.float64(),
    1182: pa.date32(),
    1115: pa.timestamp("us"),
    1185: pa.timestamp("us", "UTC"),
    1231: None,
    **dict.fromkeys((1009, 1015, 1014, 1003), pa.string()),  # text, varchar, bpchar, name
}
_NUMERIC_ARRAY, _TIMESTAMPTZ_ARRAY = 1231, 1185
# timestamptz[] text follows the session TimeZone: convert each element to UTC on the server.
_UTC_ARRAY = (
    "CASE WHEN {0} IS NULL THEN NULL ELSE ARRAY(SELECT e AT TIME ZONE 'UTC' "
    "FROM unnest({0}) WITH ORDINALITY AS u(e, o) ORDER BY o) END"
)
# Array output text: explicit dimension bounds (``[0:1]={5,6}``) and the bytes of its syntax.
_ARRAY_BOUNDS = r"^(?:\[-?[0-9]+:-?[0-9]+\])+="
_QUOTE, _BACKSLASH, _COMMA, _OPEN, _CLOSE = b'"\\,{}'
_NULL_ELEMENT = np.frombuffer(b"NULL", np.uint8)


# ---------------------------------------------------------------- write


def connect(uri: str, *, autocommit: bool = False) -> Connection:
    """A psycopg2 connection, as `adbc_postgres.connect` gives an ADBC one."""
    conn = psycopg2.connect(uri)
    conn.autocommit = autocommit
    return conn


def ingest(conn: Connection, schema: str, table: str, data: pa.Table) -> None:
    """Create ``schema.table`` with quoted DDL and COPY ``data`` into it as CSV; does not commit.

    Columns Postgres cannot store raise ValueError before any SQL runs.
    """
    data = prepare_arrow(data)
    ddl = create_table_sql(schema, table, data.schema)
    copy = _copy_sql(schema, table, data)
    with conn.cursor() as cursor:
        cursor.execute(ddl)
        _copy_in(cursor, copy, data)


def append(conn: Connection, schema: str, table: str, data: pa.Table) -> None:
    """COPY ``data`` into the existing ``schema.table`` (columns matched by name, no DDL);
    does not commit. Postgres parses the CSV text into the table's column types."""
    data = prepare_arrow(data)
    copy = _copy_sql(schema, table, data)
    with conn.cursor() as cursor:
        _copy_in(cursor, copy, data)


def _copy_sql(schema: str, table: str, data: pa.Table) -> str:
    """The COPY statement; built first so that bad names fail before any SQL runs."""
    columns = ", ".join(quote_ident(name, "column") for name in data.column_names)
    return (
        f"COPY {qualified_name(schema, table)} ({columns}) "
        "FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')"
    )


def _copy_in(cursor: psycopg2.extensions.cursor, copy: str, data: pa.Table) -> None:
    if data.num_rows and data.num_columns:
        source = _CsvSource(data)  # copy_expert calls only read() when copying from a file
        cursor.copy_expert(copy, source, size=_COPY_READ_SIZE)  # type: ignore[arg-type]


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
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _array_encoder(t.value_type)
    return lambda a: a


def _array_encoder(element_type: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    """Prepared list -> array input text ``{1,NULL,3}``: one kernel call per step, not per row."""
    element_text = _array_element_encoder(element_type)

    def encode(values: pa.Array) -> pa.Array:
        offsets, elements, mask = list_parts(values)
        # binary_join nulls a list
        texts: pa.Array = pc.fill_null(element_text(elements), "NULL")  # type: ignore[arg-type]
        joined = pc.binary_join(list_from_parts(offsets, texts, mask), ",")
        return pc.binary_join_element_wise("{", joined, "}", "")  # type: ignore[call-overload]

    return encode


def _array_element_encoder(t: pa.DataType) -> Callable[[pa.Array], pa.Array]:
    """Element text as array input reads it back: strings quoted with \\-escapes (so empty,
    "NULL", braces, commas and spaces stay data); timestamps quoted, zone-aware ones as UTC."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _quoted_element
    if pa.types.is_timestamp(t):
        naive, close = pa.timestamp(t.unit), ('Z"' if t.tz is not None else '"')
        return lambda a: pc.binary_join_element_wise(  # type: ignore[call-overload]  # stubs
            '"', _text(a.cast(naive)), close, ""
        )
    return _text  # numbers, booleans, dates and decimals need no quotes


def _text(values: pa.Array) -> pa.Array:
    return values.cast(pa.string())


def _quoted_element(values: pa.Array) -> pa.Array:
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise('"', escaped, '"', "")  # type: ignore[call-overload]


def _bytea_hex(values: pa.Array) -> pa.Array:
    """Binary -> bytea hex input text (``\\x0aff``), vectorised with numpy."""
    n = len(values)
    wide = pa.types.is_large_binary(values.type)
    offsets = np.frombuffer(  # type: ignore[call-overload]  # PEP 688
        values.buffers()[1], np.int64 if wide else np.int32
    )
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
    return pc.binary_join_element_wise(values, suffix, "")  # type: ignore[call-overload]  # stubs


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
    _describe_numeric_arrays(conn, body, columns)
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
        elif self.oid == _TIMESTAMPTZ_ARRAY:
            self.expressions = [_UTC_ARRAY.format(alias)]
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
        if self.oid in _ARRAYS:
            return map_list_values(_chunkwise(first, _array_tokens), self._elements)
        return first

    def _elements(self, texts: pa.ChunkedArray) -> pa.ChunkedArray:
        """Array element texts (NULL already null) -> values of the element type."""
        element = _ARRAYS[self.oid]
        if element is None:
            return decimal_from_text(texts, self.precision, self.scale)
        if pa.types.is_boolean(element):
            return pc.equal(texts, "t")  # type: ignore[call-overload]  # stubs
        if pa.types.is_timestamp(element):  # timestamptz[] was converted to UTC text
            return texts.cast(pa.timestamp("us")).cast(element)
        return texts.cast(element)


def _numeric_modifiers(description: psycopg2.extensions.Column) -> tuple[int | None, int | None]:
    """psycopg2 splits PQfmod into precision/scale; 65535 means unconstrained numeric."""
    if description.type_code != _NUMERIC or description.precision in (None, 65535):
        return None, None
    scale = description.scale or 0
    return description.precision, ((scale & 0x7FF) ^ 0x400) - 0x400  # negative scales (PG 15)


def _describe_numeric_arrays(conn: Connection, body: str, columns: list[_ResultColumn]) -> None:
    """numeric(p,s)[] precision and scale, which psycopg2 reports for scalar numeric only."""
    arrays = [i for i, col in enumerate(columns) if col.oid == _NUMERIC_ARRAY]
    if not arrays:
        return
    with conn.cursor() as cursor:
        cursor.execute(array_typmod_query(body, len(columns), arrays))
        # a query ran, so the description is set
        for i, element in zip(arrays, cursor.description, strict=True):  # type: ignore[arg-type]
            columns[i].precision, columns[i].scale = _numeric_modifiers(element)


def _array_tokens(text: pa.Array) -> pa.Array:
    """Array output text -> list of element texts, NULL as null, quotes and escapes undone.

    Null rows parse as ``{}`` and are masked back; explicit bounds (``[0:1]={5,6}``) are cut.
    """
    if len(text) == 0:
        return pa.array([], pa.list_(pa.string()))
    mask = text.is_null() if text.null_count else None
    if mask is not None:
        text = pc.fill_null(text, "{}")  # type: ignore[arg-type]  # stubs
    if pc.any(pc.starts_with(text, "[")).as_py():
        text = pc.replace_substring_regex(text, _ARRAY_BOUNDS, "")
    offsets = np.frombuffer(  # type: ignore[call-overload]  # PEP 688
        text.buffers()[1], np.int32
    )[text.offset : text.offset + len(text) + 1]
    list_offsets, element_offsets, data, nulls = _split_arrays(
        _data_bytes(text, offsets), offsets - offsets[0]
    )
    elements = _strings(element_offsets, data, valid=~nulls)
    return list_from_parts(list_offsets, elements, mask)


def _split_arrays(
    data: np.ndarray, row_offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the bytes of many array texts into elements: (list offsets, element offsets,
    element bytes, element is NULL), with numpy over all rows at once.

    Postgres quotes an element if it is empty, NULL-like or holds ``{},"\\`` or whitespace, and
    escapes only ``"`` and ``\\`` inside quotes, so a comma or brace outside quotes is syntax.
    Dropping all braces flattens multi-dimensional arrays, as ADBC returns them. Counts are
    taken by binary search over the (few) syntax positions rather than over every byte.
    """
    escaping, quote = _array_escapes(data)
    quotes = np.flatnonzero(quote)
    separators = _outside(np.flatnonzero(data == _COMMA), quotes)
    braces = _outside(np.flatnonzero((data == _OPEN) | (data == _CLOSE)), quotes)
    drop = quote | escaping
    drop[separators] = drop[braces] = True
    dropped = np.flatnonzero(drop)

    def kept(at: np.ndarray) -> np.ndarray:  # element bytes before each position
        return at - np.searchsorted(dropped, at)

    row_start, row_end = row_offsets[:-1], row_offsets[1:]
    # A row holds elements iff it has content or quotes ({""}); each separator adds one.
    quoted_rows = np.searchsorted(quotes, row_end) > np.searchsorted(quotes, row_start)
    filled = (kept(row_end) > kept(row_start)) | quoted_rows
    counts = np.searchsorted(separators, row_end) - np.searchsorted(separators, row_start) + 1
    counts[~filled] = 0
    begin = _positions(len(data), row_start[filled], separators + 1)
    end = _positions(len(data), row_end[filled], separators)
    # Only syntax lies between elements, so the kept bytes are the elements back to back.
    element_offsets = np.append(kept(begin), len(data) - len(dropped))
    elements = data[~drop]
    quoted = np.searchsorted(quotes, end) > np.searchsorted(quotes, begin)
    nulls = _null_elements(element_offsets, elements, quoted)
    return np.append(0, np.cumsum(counts)), element_offsets, elements, nulls


def _outside(at: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """The positions ``at`` that are outside quotes: an even number of quotes precede them."""
    return at[np.searchsorted(quotes, at) % 2 == 0] if len(quotes) else at


def _positions(size: int, bounds: np.ndarray, more: np.ndarray) -> np.ndarray:
    """Sorted union of two sets of positions in ``range(size + 1)`` that never overlap."""
    marks = np.zeros(size + 1, bool)
    marks[bounds] = marks[more] = True
    return np.flatnonzero(marks)


def _array_escapes(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(escaping backslashes, element quotes) of array output bytes: in a run of backslashes
    every other one escapes the next byte (Postgres writes no backslash outside quotes)."""
    backslash = data == _BACKSLASH
    if not backslash.any():
        return backslash, data == _QUOTE
    index = np.arange(len(data))
    run_start = np.maximum.accumulate(np.where(backslash & ~_shifted(backslash), index, 0))
    escaping = backslash & ((index - run_start) % 2 == 0)
    return escaping, (data == _QUOTE) & ~_shifted(escaping)


def _shifted(flags: np.ndarray) -> np.ndarray:
    """``flags`` moved one position right: whether the previous byte has the flag."""
    return np.concatenate([[False], flags[:-1]])


def _null_elements(offsets: np.ndarray, data: np.ndarray, quoted: np.ndarray) -> np.ndarray:
    """Elements spelled NULL without quotes (a quoted "NULL" is the text)."""
    at = offsets[:-1]
    candidates = np.flatnonzero(~quoted & (np.diff(offsets) == len(_NULL_ELEMENT)))
    nulls = np.zeros(len(at), bool)
    if len(candidates):
        spelled = data[at[candidates, None] + np.arange(len(_NULL_ELEMENT))]
        nulls[candidates] = (spelled == _NULL_ELEMENT).all(axis=1)
    return nulls


def _strings(offsets: np.ndarray, data: np.ndarray, valid: np.ndarray) -> pa.Array:
    """A string array from numpy offsets and UTF-8 bytes; null where ``valid`` is False."""
    wide = offsets[-1] > np.iinfo(np.int32).max
    validity = None if valid.all() else pa.array(valid).buffers()[1]
    return pa.Array.from_buffers(
        pa.large_string() if wide else pa.string(),
        len(offsets) - 1,
        [
            validity,
            pa.py_buffer(offsets.astype(np.int64 if wide else np.int32)),  # type: ignore[arg-type]
            pa.py_buffer(data),  # type: ignore[arg-type]  # PEP 688
        ],
        null_count=int(len(valid) - np.count_nonzero(valid)),
    )


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
            date_style, float_digits = cursor.fetchone()  # type: ignore[misc]  # SHOW: one row
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


def _chunkwise(column: pa.ChunkedArray, convert: Callable[[pa.Array], pa.Array]) -> pa.ChunkedArray:
    chunks = [convert(chunk) for chunk in column.chunks]
    if not chunks:
        return pa.chunked_array([], convert(pa.array([], column.type)).type)
    return pa.chunked_array(chunks)


def _unhex(values: pa.Array) -> pa.Array:
    """Hex text (from ``encode(x, 'hex')``) -> binary, vectorised with numpy."""
    n = len(values)
    offsets = np.frombuffer(  # type: ignore[call-overload]  # PEP 688
        values.buffers()[1], np.int32
    )[values.offset : values.offset + n + 1]
    digits = _NIBBLES[_data_bytes(values, offsets)].reshape(-1, 2)
    data = (digits[:, 0] << 4) | digits[:, 1]
    return _from_offsets(values, (offsets - offsets[0]) // 2, data, pa.binary(), pa.binary())


def _uuid_from_hex(values: pa.Array) -> pa.Array:
    """32 hex digits per uuid -> Arrow's uuid extension (16-byte fixed-size binary)."""
    raw = _unhex(values)
    valid = np.asarray(raw.is_valid(), dtype=bool)
    data = np.zeros((len(raw), 16), np.uint8)
    offsets = np.frombuffer(  # type: ignore[call-overload]  # PEP 688
        raw.buffers()[1], np.int32
    )[raw.offset : raw.offset + len(raw) + 1]
    data[valid] = _data_bytes(raw, offsets).reshape(-1, 16)
    validity = pc.is_valid(raw).buffers()[1] if raw.null_count else None
    storage = pa.Array.from_buffers(
        pa.binary(16),
        len(raw),
        [validity, pa.py_buffer(data)],  # type: ignore[arg-type]  # PEP 688
        null_count=raw.null_count,
    )
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)


def _data_bytes(values: pa.Array, offsets: np.ndarray) -> np.ndarray:
    buffer = values.buffers()[2]
    if buffer is None or offsets[-1] == offsets[0]:
        return np.zeros(0, np.uint8)
    return np.frombuffer(buffer, np.uint8)[offsets[0] : offsets[-1]]  # type: ignore[call-overload]


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
        [
            like.buffers()[0],
            pa.py_buffer(padded),  # type: ignore[arg-type]  # PEP 688
            pa.py_buffer(np.ascontiguousarray(data)),  # type: ignore[arg-type]  # PEP 688
        ],
        null_count=like.null_count,
        offset=like.offset,
    )
