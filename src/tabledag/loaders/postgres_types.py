"""Arrow <-> PostgreSQL type rules shared by the loaders, so every path stores the same columns.

``prepare_arrow`` maps a table onto the Arrow types that come back from Postgres (so a write
followed by a read compares equal to it), ``postgres_type`` names the column type for DDL, and
``restore_arrow`` repairs what a driver returns that is not plain Arrow (``numeric`` as text).
Lists of primitive types are stored as one-dimensional Postgres arrays (``int8[]``, ``text[]``,
...); ``unsupported_columns`` names the columns neither loader can store (structs, maps, unions,
nested lists, lists of binary/time/interval, ...), which ``prepare_arrow`` refuses up front.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    _ListLikeType: TypeAlias = (
        pa.ListType[Any]
        | pa.LargeListType[Any]
        | pa.FixedSizeListType[Any, Any]
        | pa.ListViewType[Any]
        | pa.LargeListViewType[Any]
    )
    _OtherListArray: TypeAlias = (
        pa.FixedSizeListArray[Any, Any] | pa.ListViewArray[Any] | pa.LargeListViewArray[Any]
    )

# NAMEDATALEN - 1: Postgres silently truncates longer identifiers, which would alias names.
MAX_IDENTIFIER_BYTES = 63

# Text output of a finite Postgres numeric: never an exponent, never a leading '+'.
_NUMERIC_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"
_DRIVER_METADATA_PREFIXES = (b"POSTGRESQL:", b"ADBC:")
# Memory layout of one month_day_nano_interval value (Arrow is little-endian on our targets).
_INTERVAL_LAYOUT = np.dtype([("months", "<i4"), ("days", "<i4"), ("nanos", "<i8")])
_NANOS_PER_DAY = 86_400 * 1_000_000_000
_MAX_DURATION_DAYS = 106_751  # int64 nanoseconds span about 292 years


# ---------------------------------------------------------------- identifiers and DDL


def quote_ident(name: str, kind: str = "identifier") -> str:
    """Quote ``name`` verbatim; refuse names Postgres would reject or silently truncate."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{kind} name must be a non-empty string, got {name!r}")
    if "\x00" in name:
        raise ValueError(f"{kind} name {name!r} contains a NUL character")
    size = len(name.encode("utf-8"))
    if size > MAX_IDENTIFIER_BYTES:
        raise ValueError(
            f"{kind} name {name!r} is {size} bytes in UTF-8; PostgreSQL keeps only "
            f"{MAX_IDENTIFIER_BYTES} and would silently truncate it"
        )
    return '"' + name.replace('"', '""') + '"'


def qualified_name(schema: str, table: str) -> str:
    """``"schema"."table"`` with both parts checked and quoted."""
    return f"{quote_ident(schema, 'schema')}.{quote_ident(table, 'table')}"


def create_table_sql(schema: str, table: str, arrow_schema: pa.Schema) -> str:
    """CREATE TABLE for a prepared Arrow schema: our DDL, so both loaders store the same types."""
    target = qualified_name(schema, table)
    columns = ", ".join(
        f"{quote_ident(name, 'column')} {type_name}"
        for name, type_name in column_type_names(arrow_schema)
    )
    return f"CREATE TABLE {target} ({columns})"


def column_type_names(arrow_schema: pa.Schema) -> list[tuple[str, str]]:
    """(column name, Postgres type) of a prepared schema: the one source of CREATE TABLE types.

    Raises ValueError naming every column no Postgres type stores (see ``unsupported_columns``).
    """
    check_storable(arrow_schema)
    return [(field.name, postgres_type(field.type)) for field in arrow_schema]


def query_body(sql: str) -> str:
    """``sql`` fit to be wrapped in COPY (...) or a subquery: no trailing ';', and a final
    newline so that a trailing ``-- comment`` cannot swallow the closing parenthesis."""
    body = sql.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return body + "\n"


# ---------------------------------------------------------------- Arrow -> Postgres


def postgres_type(arrow_type: pa.DataType) -> str:
    """The Postgres column type that stores ``arrow_type`` without loss (TypeError if none)."""
    t = _plain(arrow_type)
    if _is_list_like(t):
        element = _plain(t.value_type)
        if _is_array_element(element):
            return f"{postgres_type(element)}[]"
    else:
        name = _scalar_type_name(t)
        if name is not None:
            return name
    raise TypeError(f"no PostgreSQL column type for Arrow type {arrow_type}")


def unsupported_columns(schema: pa.Schema) -> list[tuple[str, str]]:
    """(column name, Arrow type) of every column no loader can store, found from the schema
    alone so that callers can refuse a table before any SQL runs."""
    return [(field.name, str(field.type)) for field in schema if not _is_storable(field.type)]


def check_storable(schema: pa.Schema) -> None:
    """ValueError naming every column of ``schema`` Postgres cannot store, and what to do."""
    refused = unsupported_columns(schema)
    if refused:
        listed = ", ".join(f"{name!r} ({type_text})" for name, type_text in refused)
        raise ValueError(
            f"cannot store column(s) {listed} in PostgreSQL; convert each to a string (e.g. "
            "JSON text) column or to a list of a primitive type (integer, float, boolean, "
            "string, date, timestamp or decimal) before loading"
        )


def _is_storable(arrow_type: pa.DataType) -> bool:
    try:
        postgres_type(arrow_type)
    except TypeError:
        return False
    return True


def _scalar_type_name(t: pa.DataType) -> str | None:
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz is not None else "timestamp"
    for predicate, name in _POSTGRES_TYPES:
        if predicate(t):
            return name
    return None


def _plain(t: pa.DataType) -> pa.DataType:
    """The type values are stored as: dictionaries decoded, extensions as their storage."""
    while pa.types.is_dictionary(t) or isinstance(t, pa.BaseExtensionType):
        t = t.value_type if pa.types.is_dictionary(t) else t.storage_type
    return t


def _is_list_like(t: pa.DataType) -> TypeGuard[_ListLikeType]:
    kinds = (
        pa.types.is_list,
        pa.types.is_large_list,
        pa.types.is_fixed_size_list,
        pa.types.is_list_view,
        pa.types.is_large_list_view,
    )
    return any(kind(t) for kind in kinds)


def _is_array_element(t: pa.DataType) -> bool:
    """Element types both loaders write and read back exactly (text and binary array I/O)."""
    kinds = (
        pa.types.is_boolean,
        pa.types.is_integer,
        pa.types.is_floating,
        _is_text,
        pa.types.is_null,
        pa.types.is_date,
        pa.types.is_timestamp,
        pa.types.is_decimal,
    )
    return any(kind(t) for kind in kinds)


_POSTGRES_TYPES = (
    (pa.types.is_boolean, "boolean"),
    (lambda t: t in (pa.int8(), pa.int16(), pa.uint8()), "int2"),
    (lambda t: t in (pa.int32(), pa.uint16()), "int4"),
    (lambda t: t in (pa.int64(), pa.uint32()), "int8"),
    (lambda t: t == pa.uint64(), "numeric(20,0)"),
    (lambda t: t in (pa.float16(), pa.float32()), "float4"),
    (pa.types.is_float64, "float8"),
    (lambda t: _is_text(t) or pa.types.is_null(t), "text"),
    (lambda t: _is_bytes(t), "bytea"),
    (pa.types.is_date, "date"),
    (pa.types.is_time, "time"),
    (pa.types.is_duration, "interval"),
    (pa.types.is_interval, "interval"),
)


def prepare_arrow(data: pa.Table) -> pa.Table:
    """Map ``data`` onto the Arrow types a Postgres round trip returns; same object if no change.

    Widening only (int8/uints -> wider signed, uint64 -> decimal128(20,0), float16 -> float32,
    large/view/fixed binary and strings -> binary/string, dictionaries decoded, null -> string,
    extension -> storage, date64 -> date32, time/timestamp/duration -> microseconds). Lists of
    any kind (large, fixed-size, view) become ``list<item: E>`` with E mapped as above. Postgres
    keeps microseconds, so sub-microsecond values raise ValueError instead of being truncated;
    columns Postgres cannot store at all raise ValueError naming them all (``check_storable``).
    """
    check_storable(data.schema)
    columns = list(data.columns)
    changed = False
    for i, field in enumerate(data.schema):
        try:
            prepared = _prepare_column(columns[i])
        except pa.ArrowInvalid as exc:
            raise ValueError(
                f"column {field.name!r} ({field.type}) cannot be stored in PostgreSQL "
                f"without loss: {exc}"
            ) from exc
        if prepared is not columns[i]:
            columns[i], changed = prepared, True
    if not changed:
        return data
    fields = [  # field metadata of a converted column described the old type (e.g. polars')
        f if f.type == c.type else pa.field(f.name, c.type, f.nullable)
        for f, c in zip(data.schema, columns, strict=True)
    ]
    # the stubs want the metadata as dict[bytes | str, bytes | str] (a dict is invariant)
    schema = pa.schema(fields, data.schema.metadata)  # type: ignore[arg-type]
    return pa.Table.from_arrays(columns, schema=schema)


def _prepare_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    t = column.type
    if pa.types.is_dictionary(t):
        return _prepare_column(column.cast(t.value_type))
    if isinstance(t, pa.BaseExtensionType):
        storage = [cast("pa.ExtensionArray[Any]", chunk).storage for chunk in column.chunks]
        # the stubs have no chunked_array(arrays, type) overload
        plain = pa.chunked_array(storage, t.storage_type)  # type: ignore[call-overload]
        return _prepare_column(plain)
    if _is_list_like(t):
        return _prepare_list(column)
    if pa.types.is_null(t):
        return pa.chunked_array([pa.nulls(len(c), pa.string()) for c in column.chunks], pa.string())
    if _is_text(t) and t != pa.string():
        return _cast_offsets(column, pa.string(), pa.large_string())
    if _is_bytes(t) and t != pa.binary():
        return _cast_offsets(column, pa.binary(), pa.large_binary())
    target = _widened_type(t)
    return column if target is None else column.cast(target)


def _prepare_list(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """``list<item: E>`` with E prepared like a column: the type Postgres arrays come back as."""
    element = _prepare_column(pa.chunked_array([], column.type.value_type)).type
    if column.type == pa.list_(element):
        return column
    return map_list_values(column, _prepare_column)


def _cast_offsets(
    column: pa.ChunkedArray, small: pa.DataType, large: pa.DataType
) -> pa.ChunkedArray:
    """32-bit offsets like Postgres results have, unless a chunk holds more than 2 GiB."""
    try:
        return column.cast(small)
    except (pa.ArrowInvalid, pa.ArrowCapacityError):
        return column if column.type == large else column.cast(large)


def _widened_type(t: pa.DataType) -> pa.DataType | None:
    if t in (pa.int8(), pa.uint8()):
        return pa.int16()
    if t == pa.uint16():
        return pa.int32()
    if t == pa.uint32():
        return pa.int64()
    if t == pa.uint64():
        return pa.decimal128(20, 0)
    if t == pa.float16():
        return pa.float32()
    if pa.types.is_decimal32(t) or pa.types.is_decimal64(t):
        return pa.decimal128(t.precision, t.scale)
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_time(t) and t != pa.time64("us"):
        return pa.time64("us")
    if pa.types.is_timestamp(t) and t.unit != "us":
        return pa.timestamp("us", t.tz)
    if pa.types.is_duration(t) and t.unit != "us":
        return pa.duration("us")
    return None


# ---------------------------------------------------------------- lists


def list_parts(chunk: pa.Array) -> tuple[np.ndarray, pa.Array, pa.Array | None]:
    """Zero-based offsets, the elements in use and the null mask of any list-like array.

    Only the elements inside the slice are returned: ``to_batches`` hands out slices whose
    ``values`` are the whole column's, and touching those per batch would be quadratic.
    """
    if pa.types.is_list(chunk.type) or pa.types.is_large_list(chunk.type):
        listed = cast("pa.ListArray[Any] | pa.LargeListArray[Any]", chunk)
        offsets = listed.offsets.to_numpy()
        start = offsets[0]
        values = listed.values.slice(start, offsets[-1] - start)
        offsets = offsets - start
    else:  # fixed-size lists and list views: flatten() skips what nulls and slicing hide
        values = cast("_OtherListArray", chunk).flatten()
        lengths = pc.fill_null(pc.list_value_length(chunk), 0).to_numpy()
        offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    mask = chunk.is_null() if chunk.null_count else None
    return offsets, values, mask


def list_from_parts(offsets: np.ndarray, values: pa.Array, mask: pa.Array | None) -> pa.Array:
    """``list<item: ...>`` from ``list_parts`` pieces; large_list only past 2**31 elements."""
    if offsets[-1] > np.iinfo(np.int32).max:
        return pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), values, mask=mask)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, mask=mask)


def map_list_values(
    column: pa.ChunkedArray, convert: Callable[[pa.ChunkedArray], pa.ChunkedArray]
) -> pa.ChunkedArray:
    """Apply ``convert`` to the elements of all lists at once, keeping offsets and nulls.

    One call for the whole column, so that a type inferred from the values (unconstrained
    numeric) is the same for every chunk.
    """
    parts = [list_parts(chunk) for chunk in column.chunks]
    elements = pa.chunked_array([values for _, values, _ in parts], column.type.value_type)
    converted = convert(elements)
    if not parts:
        # the stubs have no chunked_array(arrays, type) overload
        return pa.chunked_array([], pa.list_(converted.type))  # type: ignore[call-overload]
    flat = converted.combine_chunks()
    chunks, start = [], 0
    for offsets, _, mask in parts:
        size = int(offsets[-1])
        chunks.append(list_from_parts(offsets, flat.slice(start, size), mask))
        start += size
    if len({chunk.type for chunk in chunks}) > 1:  # some chunk needed 64-bit offsets
        chunks = [chunk.cast(pa.large_list(flat.type)) for chunk in chunks]
    return pa.chunked_array(chunks)


# ---------------------------------------------------------------- Postgres -> Arrow


def restore_arrow(data: pa.Table, schema_hint: pa.Schema | None = None) -> pa.Table:
    """Turn a driver's result into plain Arrow, optionally steered back to ``schema_hint`` types.

    ADBC returns ``numeric`` as an opaque text extension (with the column's typmod in field
    metadata); it becomes decimal128(p, s), decimal256 above 38 digits, or, for unconstrained
    numeric, the narrowest decimal(38|76, s) holding every value (text if NaN/Infinity occur).
    The same holds for the elements of ``numeric[]`` lists, whose typmod the caller puts in the
    list field's metadata. Driver field metadata (``POSTGRESQL:*``, ``ADBC:*``) is dropped, on
    list elements too, so loaders agree. A hint column is cast to its hinted type when that
    cast is lossless (timestamptz back to its zone, interval back to duration, int16 back to
    int8, the same inside lists); otherwise the column stays as read.
    """
    columns = list(data.columns)
    fields = []
    changed = False
    for i, field in enumerate(data.schema):
        column = columns[i]
        hint = _hinted_type(schema_hint, field.name)
        if _driver_type_name(field) == "numeric" and _is_text(_storage_type(field.type)):
            column = _numeric_from_text(column, field, hint)
        elif _is_list_like(column.type):
            column = _restore_list(column, field, hint)
        if hint is not None and column.type != hint:
            column = _cast_to_hint(column, hint)
        metadata = _without_driver_metadata(field.metadata)
        changed = changed or column is not columns[i] or metadata != field.metadata
        columns[i] = column
        fields.append(pa.field(field.name, column.type, field.nullable, metadata))
    if not changed:
        return data
    # the stubs want the metadata as dict[bytes | str, bytes | str] (a dict is invariant)
    schema = pa.schema(fields, data.schema.metadata)  # type: ignore[arg-type]
    return pa.Table.from_arrays(columns, schema=schema)


def _numeric_from_text(
    column: pa.ChunkedArray, field: pa.Field, hint: pa.DataType | None
) -> pa.ChunkedArray:
    precision_scale = numeric_precision_scale(_typmod(field))
    if precision_scale is None and hint is not None and pa.types.is_decimal(hint):
        precision_scale = (hint.precision, hint.scale)  # unconstrained: trust the hint
    return decimal_from_text(_storage(column), *(precision_scale or (None, None)))


def _restore_list(
    column: pa.ChunkedArray, field: pa.Field, hint: pa.DataType | None
) -> pa.ChunkedArray:
    """numeric[] elements as decimals (typmod on the list field, see ``array_typmod_query``);
    other lists lose the driver metadata ADBC puts on their element field."""
    element_hint = hint.value_type if hint is not None and _is_list_like(hint) else None
    if _driver_type_name(field) == "_numeric" and _is_text(_storage_type(column.type.value_type)):
        return map_list_values(column, lambda v: _numeric_from_text(v, field, element_hint))
    if column.type.value_field.metadata:
        return column.cast(pa.list_(column.type.value_type))
    return column


def array_typmod_query(body: str, width: int, indexes: list[int]) -> str:
    """LIMIT 0 query whose columns are element [1] of the array columns at ``indexes`` of the
    ``width``-column query ``body``: drivers report a typmod (numeric precision and scale) for
    scalar result columns only, and a subscript keeps the array column's typmod."""
    aliases = ", ".join(f"c{i}" for i in range(width))
    picks = ", ".join(f"(c{i})[1] AS c{i}" for i in indexes)
    return f"SELECT {picks} FROM (\n{body}) AS q({aliases}) LIMIT 0"


def numeric_precision_scale(typmod: int | None) -> tuple[int, int] | None:
    """Decode a numeric typmod (PQfmod); None for unconstrained ``numeric``."""
    if typmod is None or typmod < 4:
        return None
    packed = typmod - 4
    scale = ((packed & 0x7FF) ^ 0x400) - 0x400  # 11-bit signed since PostgreSQL 15
    return (packed >> 16) & 0xFFFF, scale


def decimal_from_text(
    values: pa.ChunkedArray, precision: int | None = None, scale: int | None = None
) -> pa.ChunkedArray:
    """Parse Postgres numeric text into a decimal; stays text if no decimal type can hold it."""
    target = _decimal_type(precision, scale) if precision is not None else None
    if target is not None:
        try:
            return values.cast(target)
        except pa.ArrowInvalid:  # NaN is legal even in a constrained numeric
            return _postgres_spelling(values)
    target = _inferred_decimal_type(values)
    return _postgres_spelling(values) if target is None else values.cast(target)


def _postgres_spelling(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """ADBC spells special numerics nan/inf/-inf; use Postgres' own NaN/Infinity/-Infinity."""
    for pattern, replacement in (("^nan$", "NaN"), ("^inf$", "Infinity"), ("^-inf$", "-Infinity")):
        values = pc.replace_substring_regex(values, pattern, replacement)
    return values


def _decimal_type(precision: int, scale: int | None) -> pa.DataType | None:
    try:
        if 1 <= precision <= 38:
            return pa.decimal128(precision, scale or 0)
        if precision <= 76:
            return pa.decimal256(precision, scale or 0)
    except (ValueError, pa.ArrowInvalid):  # e.g. a scale Arrow cannot represent
        return None
    return None


def _inferred_decimal_type(values: pa.ChunkedArray) -> pa.DataType | None:
    """decimal(38|76, max scale seen) for unconstrained numeric, e.g. SUM() or AVG() results."""
    valid = pc.drop_null(values)
    if len(valid) == 0:
        return pa.decimal128(38, 0)
    if not pc.all(pc.match_substring_regex(valid, _NUMERIC_TEXT)).as_py():
        return None
    length = pc.binary_length(valid)
    dot = pc.find_substring(valid, ".")
    has_dot = pc.greater_equal(dot, 0)  # type: ignore[call-overload]  # stubs: no Python scalars
    scale = pc.max(pc.if_else(has_dot, pc.subtract(pc.subtract(length, dot), 1), 0)).as_py()
    sign = pc.cast(pc.starts_with(valid, "-"), pa.int32())
    digits = pc.max(pc.subtract(pc.if_else(has_dot, dot, length), sign)).as_py()
    for precision, make in ((38, pa.decimal128), (76, pa.decimal256)):
        if digits + scale <= precision:
            return make(precision, scale)
    return None


def _cast_to_hint(column: pa.ChunkedArray, hint: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_interval(column.type) and pa.types.is_duration(hint):
        durations = interval_to_duration(column)
        if durations is None:
            return column
        column = durations
    try:
        return column.cast(hint)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return column


def interval_to_duration(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """month_day_nano -> duration[ns]; None if a value has months (no fixed length) or is
    too long for int64 nanoseconds."""
    chunks = []
    for chunk in column.chunks:
        parts = interval_parts(chunk)
        valid = np.asarray(chunk.is_valid(), dtype=bool)
        if np.any(parts["months"][valid]) or np.any(abs(parts["days"][valid]) > _MAX_DURATION_DAYS):
            return None
        nanos = parts["days"].astype(np.int64) * _NANOS_PER_DAY + parts["nanos"]
        chunks.append(pa.array(nanos, pa.duration("ns"), mask=~valid))
    return pa.chunked_array(chunks, pa.duration("ns"))


def interval_parts(chunk: pa.Array) -> np.ndarray:
    """Zero-copy structured view (months, days, nanos) of a month_day_nano_interval array."""
    # pa.Buffer is a buffer, but typing it as one needs Python 3.12 (PEP 688)
    layout = np.frombuffer(chunk.buffers()[1], _INTERVAL_LAYOUT)  # type: ignore[call-overload]
    return layout[chunk.offset : chunk.offset + len(chunk)]


def interval_from_parts(months: pa.Array, days: pa.Array, micros: pa.Array) -> pa.Array:
    """Assemble month_day_nano_interval from three aligned columns (null where months is)."""
    parts = np.zeros(len(months), _INTERVAL_LAYOUT)
    parts["months"] = months.fill_null(0).to_numpy()
    parts["days"] = days.fill_null(0).to_numpy()
    parts["nanos"] = micros.fill_null(0).to_numpy() * 1000
    # A freshly computed boolean array's value bitmap doubles as a validity bitmap.
    validity = pc.is_valid(months).buffers()[1] if months.null_count else None
    return pa.Array.from_buffers(
        pa.month_day_nano_interval(),
        len(parts),
        [validity, pa.py_buffer(parts)],  # type: ignore[arg-type]  # ndarray: PEP 688 on 3.12
        null_count=months.null_count,
    )


def _hinted_type(schema_hint: pa.Schema | None, name: str) -> pa.DataType | None:
    if schema_hint is None:
        return None
    index = schema_hint.get_field_index(name)  # -1 when missing or ambiguous
    return None if index < 0 else schema_hint.field(index).type


def _driver_type_name(field: pa.Field) -> str | None:
    t = field.type
    if isinstance(t, pa.OpaqueType):
        return t.type_name
    metadata = field.metadata or {}
    name = metadata.get(b"ADBC:postgresql:typname") or metadata.get(b"POSTGRESQL:type")
    return name.decode() if name else None


def _typmod(field: pa.Field) -> int | None:
    raw = (field.metadata or {}).get(b"POSTGRESQL:typmod")
    return int(raw) if raw else None


def _storage_type(t: pa.DataType) -> pa.DataType:
    return t.storage_type if isinstance(t, pa.BaseExtensionType) else t


def _storage(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if not isinstance(column.type, pa.BaseExtensionType):
        return column
    storage = [cast("pa.ExtensionArray[Any]", c).storage for c in column.chunks]
    # the stubs have no chunked_array(arrays, type) overload
    return pa.chunked_array(storage, column.type.storage_type)  # type: ignore[call-overload]


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_bytes(t: pa.DataType) -> bool:
    kinds = (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_binary_view)
    return any(kind(t) for kind in kinds) or pa.types.is_fixed_size_binary(t)


def _without_driver_metadata(metadata: dict[bytes, bytes] | None) -> dict[bytes, bytes] | None:
    if not metadata:
        return metadata
    kept = {k: v for k, v in metadata.items() if not k.startswith(_DRIVER_METADATA_PREFIXES)}
    return kept or None
