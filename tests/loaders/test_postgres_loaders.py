"""Round trips through both Postgres loaders against a real server.

The server comes from TABLEDAG_TEST_POSTGRES_URL (default: local trust-auth ``postgres``). If it
cannot be reached the server tests skip, or fail when TABLEDAG_REQUIRE_SERVICES=1. Each run
works in its own throwaway schema, dropped at the end.

What does not round-trip exactly, by design (``prepare_arrow`` documents the mapping): narrow
and unsigned integers, float16, large/view/fixed-size binary and strings, dictionaries, null
columns, date64, and non-microsecond time units come back as the wider type Postgres stores;
zone-aware timestamps come back in UTC (same instants; a schema hint restores the zone);
durations come back as month_day_nano_interval (a schema hint restores duration). Lists of
those element types are stored as Postgres arrays and follow the same rules element-wise;
large, fixed-size and view lists come back as plain lists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import importlib
import os
import random
import urllib.parse
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest

from tabledag.loaders.postgres_types import (
    column_type_names,
    create_table_sql,
    list_from_parts,
    list_parts,
    postgres_type,
    prepare_arrow,
    unsupported_columns,
)

psycopg2 = pytest.importorskip("psycopg2")

URL_VARIABLE = "TABLEDAG_TEST_POSTGRES_URL"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Only tests that talk to the server carry the `postgres` mark; the pure type-rule tests do not.
LOADER_NAMES = ("adbc_postgres", "psycopg2_copy")
LOADERS = [pytest.param(name, marks=pytest.mark.postgres) for name in LOADER_NAMES]
D = decimal.Decimal


def _redacted(url: str) -> str:
    """The URL with any password replaced, safe to show in a skip or failure message."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = urllib.parse.quote(parts.username or "")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server_url() -> str:
    url = os.environ.get(URL_VARIABLE) or DEFAULT_URL
    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        message = (
            f"PostgreSQL not reachable via {URL_VARIABLE}={_redacted(url)} ({reason}); "
            f"set {URL_VARIABLE} to a server tabledag may create schemas on"
        )
        if os.environ.get("TABLEDAG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} (TABLEDAG_REQUIRE_SERVICES=1 requires it)", pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture(scope="module")
def schema(server_url: str) -> Iterator[str]:
    """A throwaway schema for this run (unique, so parallel runs do not collide)."""
    name = f"tabledag_test_{uuid.uuid4().hex[:12]}"
    admin_execute(server_url, f"CREATE SCHEMA {quoted(name)}")
    try:
        yield name
    finally:
        admin_execute(server_url, f"DROP SCHEMA {quoted(name)} CASCADE")


@pytest.fixture(params=LOADERS)
def loader(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == "adbc_postgres":
        pytest.importorskip("adbc_driver_postgresql")
    return importlib.import_module(f"tabledag.loaders.{request.param}")


@pytest.fixture
def conn(loader: ModuleType, server_url: str) -> Iterator[Any]:
    """A connection of the loader's own driver; rolled back and closed after the test."""
    if loader.__name__.endswith("adbc_postgres"):
        connection = loader.connect(server_url)
    else:
        connection = psycopg2.connect(server_url)
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()


@pytest.fixture
def table_name() -> str:
    """A table name unique to this test and loader."""
    return f"t_{uuid.uuid4().hex[:16]}"


@contextlib.contextmanager
def open_connection(loader: ModuleType, url: str) -> Iterator[Any]:
    """A connection of the loader's own driver, closed (uncommitted work rolled back) after."""
    connection = loader.connect(url)
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()


def admin_execute(url: str, sql: str) -> None:
    """Run DDL outside the test's transaction (autocommit, own connection)."""
    admin = psycopg2.connect(url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql)
    finally:
        admin.close()


def quoted(*names: str) -> str:
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)


def roundtrip(
    loader: ModuleType,
    conn: Any,
    schema: str,
    table: str,
    data: pa.Table,
    schema_hint: pa.Schema | None = None,
) -> pa.Table:
    loader.ingest(conn, schema, table, data)
    conn.commit()
    result = loader.read(conn, f"SELECT * FROM {quoted(schema, table)}", schema_hint=schema_hint)
    conn.rollback()
    return result


def assert_same(result: pa.Table, expected: pa.Table) -> None:
    """Table equality with a per-column message saying what differs."""
    assert result.column_names == expected.column_names
    for name, got, want in zip(result.column_names, result.columns, expected.columns, strict=True):
        assert got.type == want.type, f"column {name!r}: type {got.type}, expected {want.type}"
        assert got.equals(want), f"column {name!r}: {got.to_pylist()} != {want.to_pylist()}"
    assert result.equals(expected)


def one_column(array: pa.Array, name: str = "c") -> pa.Table:
    return pa.table({name: array})


# ---------------------------------------------------------------- data

STRINGS = [
    "plain",
    "",
    None,
    "größe 名前 🙂",
    "comma, separated",
    "double \"quotes\" and 'single'",
    "line\nbreak and\r\ncrlf",
    "back\\slash \\N \\x00 \\",
    "\\.",
    "first\n\\.\nlast",
    "NULL",
    "  padded\t",
    '"',
    ",",
]


def scalar_table() -> pa.Table:
    """Every scalar type that round-trips exactly, with a NULL in every column."""
    return pa.table(
        {
            "i16": pa.array([-(2**15), None, 2**15 - 1], pa.int16()),
            "i32": pa.array([-(2**31), None, 2**31 - 1], pa.int32()),
            "i64": pa.array([-(2**63), None, 2**63 - 1], pa.int64()),
            "f32": pa.array([1.1, None, -3.4028234663852886e38], pa.float32()),
            "f64": pa.array([0.1, None, 1 / 3], pa.float64()),
            "d18": pa.array([D("-99999999999999.9999"), None, D("0.0001")], pa.decimal128(18, 4)),
            "d38": pa.array(
                [D("9999999999999999999999999999.9999999999"), None, D("-0.0000000001")],
                pa.decimal128(38, 10),
            ),
            "flag": pa.array([True, None, False]),
            "text": pa.array(["x", None, ""]),
            "day": pa.array([dt.date(1, 1, 1), None, dt.date(9999, 12, 31)]),
            "clock": pa.array([dt.time(0), None, dt.time(23, 59, 59, 999999)], pa.time64("us")),
            "naive": pa.array(
                [dt.datetime(1, 1, 1), None, dt.datetime(9999, 12, 31, 23, 59, 59, 999999)],
                pa.timestamp("us"),
            ),
            "utc": pa.array(
                [dt.datetime(1969, 12, 31, 23, 59, 59, 999999), None, dt.datetime(2020, 2, 29)],
                pa.timestamp("us", "UTC"),
            ),
            "blob": pa.array([bytes(range(256)), None, b""]),
        }
    )


def list_table() -> pa.Table:
    """Every list type that round-trips exactly: values, NULL elements, NULL and empty lists."""

    def lists(values: list[Any], element: pa.DataType) -> pa.Array:
        return pa.array([values, [values[0], None], None, [], [None]], pa.list_(element))

    naive = [dt.datetime(1, 1, 1), dt.datetime(2020, 2, 29, 23, 59, 59, 999999)]
    return pa.table(
        {
            "i16": lists([-(2**15), 2**15 - 1], pa.int16()),
            "i32": lists([-(2**31), 2**31 - 1], pa.int32()),
            "i64": lists([-(2**63), 2**63 - 1], pa.int64()),
            "f32": lists([1.1, -3.4028234663852886e38], pa.float32()),
            "f64": lists([0.1, 1 / 3, -0.0, 5e-324], pa.float64()),
            "flag": lists([True, False], pa.bool_()),
            "text": lists(["x", "", "NULL", "a b"], pa.string()),
            "day": lists([dt.date(1, 1, 1), dt.date(9999, 12, 31)], pa.date32()),
            "naive": lists(naive, pa.timestamp("us")),
            "tz": lists([dt.datetime(1969, 12, 31, 23, 59, 59, 999999)], pa.timestamp("us", "UTC")),
            "dec": lists([D("-99999999.99"), D("0.01")], pa.decimal128(10, 2)),
            "wide": lists([D("1" * 40 + ".5")], pa.decimal256(50, 1)),
        }
    )


LIST_STRINGS = [
    *STRINGS,
    "{",
    "}",
    "{a,b}",
    " ",
    " lead",
    "trail ",
    "null",
    "\\\\",
    '\\"',
    '\\\\"',
    "end\\",
    'é,\\{"}',
]


# ---------------------------------------------------------------- round trips


def test_scalar_types_roundtrip(loader, conn, schema, table_name):
    data = scalar_table()
    assert prepare_arrow(data) is data
    assert_same(roundtrip(loader, conn, schema, table_name, data), data)


def test_all_null_columns_roundtrip(loader, conn, schema, table_name):
    data = pa.table({field.name: pa.nulls(3, field.type) for field in scalar_table().schema})
    assert_same(roundtrip(loader, conn, schema, table_name, data), data)


def test_strings_keep_empty_null_and_special_characters(loader, conn, schema, table_name):
    data = one_column(pa.array(STRINGS))
    result = roundtrip(loader, conn, schema, table_name, data)
    assert result.column("c").to_pylist() == STRINGS
    assert_same(result, data)


def test_float_special_values(loader, conn, schema, table_name):
    special = [float("inf"), float("-inf"), float("nan"), -0.0]
    data = pa.table(
        {
            "f64": pa.array([*special, 5e-324, 1.7976931348623157e308]),
            "f32": pa.array([*special, 1.4e-45, 3.4028234663852886e38], pa.float32()),
        }
    )
    result = roundtrip(loader, conn, schema, table_name, data)
    for name in ("f64", "f32"):
        got, want = result.column(name).to_pylist(), data.column(name).to_pylist()
        assert [str(v) for v in got] == [str(v) for v in want]  # NaN != NaN, str() is exact


def test_binary_roundtrip_across_batches(loader, conn, schema, table_name, monkeypatch):
    monkeypatch.setattr("tabledag.loaders.psycopg2_copy.BATCH_ROWS", 7)
    values = [bytes([i % 256]) * (i % 5) if i % 3 else None for i in range(50)]
    chunks = pa.chunked_array([pa.array(values[:20]).slice(3), pa.array(values[20:])])
    data = pa.table({"b": chunks, "n": pa.array(range(47))})
    result = roundtrip(loader, conn, schema, table_name, data)
    assert result.column("b").to_pylist() == values[3:]
    assert result.column("n").to_pylist() == list(range(47))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Zurich"])
def test_timestamptz_comes_back_in_utc(loader, conn, schema, table_name, zone):
    """Postgres stores timestamptz as a UTC instant and forgets the zone: we get UTC back."""
    moments = [dt.datetime(2021, 3, 28, 0, 59, 59), None, dt.datetime(1800, 1, 1, 12)]
    data = one_column(pa.array(moments, pa.timestamp("us", zone)))
    result = roundtrip(loader, conn, schema, table_name, data)
    assert result.schema.field("c").type == pa.timestamp("us", "UTC")
    assert result.column("c").cast(pa.int64()).equals(data.column("c").cast(pa.int64()))
    hinted = loader.read(conn, f"SELECT * FROM {quoted(schema, table_name)}", data.schema)
    assert_same(hinted, data)  # the hint puts the zone back: same instants, same type


def test_duration_comes_back_as_interval(loader, conn, schema, table_name):
    values = [dt.timedelta(days=3, microseconds=7), None, dt.timedelta(microseconds=-1)]
    data = one_column(pa.array(values, pa.duration("us")))
    result = roundtrip(loader, conn, schema, table_name, data)
    assert result.schema.field("c").type == pa.month_day_nano_interval()
    nanos = [None if v is None else v.nanoseconds for v in result.column("c").to_pylist()]
    assert nanos == [259_200_000_007_000, None, -1000]
    hinted = loader.read(conn, f"SELECT * FROM {quoted(schema, table_name)}", data.schema)
    assert_same(hinted, data)


def test_widened_types_come_back_as_prepared(loader, conn, schema, table_name):
    data = pa.table(
        {
            "i8": pa.array([-128, None, 127], pa.int8()),
            "u8": pa.array([0, None, 255], pa.uint8()),
            "u16": pa.array([0, None, 65535], pa.uint16()),
            "u32": pa.array([0, None, 2**32 - 1], pa.uint32()),
            "u64": pa.array([0, None, 2**64 - 1], pa.uint64()),
            "f16": pa.array([1.5, None, -2.0], pa.float16()),
            "dict": pa.array(["a", None, "a"]).dictionary_encode(),
            "nothing": pa.nulls(3),
            "large": pa.array(["x", None, ""], pa.large_string()),
            "view": pa.array(["x", None, ""], pa.string_view()),
            "lbin": pa.array([b"x", None, b""], pa.large_binary()),
            "fixed": pa.array([b"ab", None, b"cd"], pa.binary(2)),
            "date64": pa.array([dt.date(2020, 1, 1), None, dt.date(1900, 3, 1)], pa.date64()),
            "time32": pa.array([dt.time(1, 2, 3), None, dt.time(0)], pa.time32("ms")),
            "ts_ns": pa.array([1_000, None, -2_000], pa.timestamp("ns")),
            "ts_s": pa.array([0, None, 1], pa.timestamp("s")),
            "dec32": pa.array([D("1.5"), None, D("-9.9")], pa.decimal32(3, 1)),
        }
    )
    expected = prepare_arrow(data)
    assert expected.schema.types == [
        pa.int16(), pa.int16(), pa.int32(), pa.int64(), pa.decimal128(20, 0), pa.float32(),
        pa.string(), pa.string(), pa.string(), pa.string(), pa.binary(), pa.binary(),
        pa.date32(), pa.time64("us"), pa.timestamp("us"), pa.timestamp("us"),
        pa.decimal128(3, 1),
    ]  # fmt: skip
    result = roundtrip(loader, conn, schema, table_name, data)
    assert_same(result, expected)
    hinted = loader.read(conn, f"SELECT * FROM {quoted(schema, table_name)}", data.schema)
    for name in ("i8", "u8", "u16", "u32", "u64", "f16", "large", "ts_ns"):
        assert hinted.column(name).type == data.column(name).type, name
        assert hinted.column(name).equals(data.column(name)), name


def test_sub_microsecond_values_are_refused(loader, conn, schema, table_name):
    data = one_column(pa.array([1], pa.timestamp("ns")))
    with pytest.raises(ValueError, match="without loss"):
        loader.ingest(conn, schema, table_name, data)


def test_empty_table_keeps_types(loader, conn, schema, table_name):
    data = scalar_table().slice(0, 0)
    assert_same(roundtrip(loader, conn, schema, table_name, data), data)


# ---------------------------------------------------------------- lists


def test_lists_roundtrip(loader, conn, schema, table_name):
    data = list_table()
    assert prepare_arrow(data) is data
    assert_same(roundtrip(loader, conn, schema, table_name, data), data)


def test_list_columns_are_postgres_arrays(loader, conn, schema, table_name):
    loader.ingest(conn, schema, table_name, list_table())
    with conn.cursor() as cur:
        cur.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            f"WHERE attrelid = '{quoted(schema, table_name)}'::regclass AND attnum > 0 "
            "ORDER BY attnum"
        )
        types = dict(cur.fetchall())
        cur.execute(f"SELECT text::text, i64::text, dec::text FROM {quoted(schema, table_name)}")
        first = cur.fetchone()
    assert types["i64"] == "bigint[]"
    assert types["dec"] == "numeric(10,2)[]"
    assert types["tz"] == "timestamp with time zone[]"
    assert first == ('{x,"","NULL","a b"}', "{-9223372036854775808,9223372036854775807}",
                     "{-99999999.99,0.01}")  # fmt: skip


def test_all_null_list_columns_roundtrip(loader, conn, schema, table_name):
    data = pa.table({field.name: pa.nulls(3, field.type) for field in list_table().schema})
    assert_same(roundtrip(loader, conn, schema, table_name, data), data)


def test_empty_table_keeps_list_types(loader, conn, schema, table_name):
    data = list_table().slice(0, 0)
    assert_same(roundtrip(loader, conn, schema, table_name, data), data)


def test_list_strings_keep_quotes_escapes_and_null_text(loader, conn, schema, table_name):
    rows = [LIST_STRINGS, [None], [""], ["NULL"], [], None, *([s] for s in LIST_STRINGS)]
    data = one_column(pa.array(rows, pa.list_(pa.string())))
    result = roundtrip(loader, conn, schema, table_name, data)
    assert result.column("c").to_pylist() == rows
    assert_same(result, data)


def test_random_list_strings_roundtrip_through_both_writers_and_readers(server_url, schema):
    """Seeded random strings from the characters array text treats specially, written by
    each loader and read by each (the COPY parser must agree with the binary driver)."""
    pytest.importorskip("adbc_driver_postgresql")
    loaders = [importlib.import_module(f"tabledag.loaders.{name}") for name in LOADER_NAMES]
    rng = random.Random(13)
    alphabet = ['"', "\\", ",", "{", "}", " ", "\t", "\n", "a", "N", "U", "L", "é", "[", "=", ":"]
    rows = [
        None if rng.random() < 0.05 else
        [None if rng.random() < 0.1 else "".join(rng.choices(alphabet, k=rng.randrange(6)))
         for _ in range(rng.randrange(5))]
        for _ in range(2000)
    ]  # fmt: skip
    data = one_column(pa.array(rows, pa.list_(pa.string())))
    for writer in loaders:
        table = f"t_{uuid.uuid4().hex[:16]}"
        with open_connection(writer, server_url) as conn:
            writer.ingest(conn, schema, table, data)
            conn.commit()
        for reader in loaders:
            with open_connection(reader, server_url) as conn:
                result = reader.read(conn, f"SELECT * FROM {quoted(schema, table)}")
            assert result.column("c").to_pylist() == rows, (writer.__name__, reader.__name__)


def test_list_float_special_values(loader, conn, schema, table_name):
    special = [float("inf"), float("-inf"), float("nan"), -0.0, None]
    data = pa.table(
        {
            "f64": pa.array([special, [1.7976931348623157e308]], pa.list_(pa.float64())),
            "f32": pa.array([special, [1.4e-45]], pa.list_(pa.float32())),
        }
    )
    result = roundtrip(loader, conn, schema, table_name, data)
    assert result.schema == data.schema
    for name in ("f64", "f32"):
        got, want = result.column(name).to_pylist(), data.column(name).to_pylist()
        assert [[str(v) for v in row] for row in got] == [[str(v) for v in row] for row in want]


def test_lists_across_batches_and_slices(loader, conn, schema, table_name, monkeypatch):
    monkeypatch.setattr("tabledag.loaders.psycopg2_copy.BATCH_ROWS", 7)
    values = [[f"s{i}", None, str(j)] if i % 4 else None for i in range(50) for j in (i % 3,)]
    numbers = [list(range(i % 5)) if i % 3 else None for i in range(50)]
    data = pa.table(
        {
            "s": pa.chunked_array([pa.array(values[:20]).slice(3), pa.array(values[20:])]),
            "n": pa.chunked_array([pa.array(numbers[:30]).slice(3), pa.array(numbers[30:])]),
        }
    )
    result = roundtrip(loader, conn, schema, table_name, data)
    assert result.column("s").to_pylist() == values[3:20] + values[20:]
    assert result.column("n").to_pylist() == numbers[3:30] + numbers[30:]


def test_widened_list_types_come_back_as_prepared(loader, conn, schema, table_name):
    nested = [[1, None, 3], None, [], [4, 5, 6]]
    data = pa.table(
        {
            "i8": pa.array(nested, pa.list_(pa.int8())),
            "u64": pa.array([[2**64 - 1, None], None, [], [0]], pa.list_(pa.uint64())),
            "f16": pa.array(nested, pa.list_(pa.int8())).cast(pa.list_(pa.float16())),
            "large": pa.array(nested, pa.large_list(pa.int64())),
            "fixed": pa.array([[1, None, 3], None, [7, 8, 9], [4, 5, 6]], pa.list_(pa.int64(), 3)),
            "view": pa.array(nested, pa.list_view(pa.int64())),
            "strict": pa.array(
                [[1], None, [], [2]], pa.list_(pa.field("element", pa.int64(), nullable=False))
            ),
            "words": pa.array([["a", None], None, [], ["b"]], pa.large_list(pa.large_string())),
            "views": pa.array([["a", None], None, [], ["b"]], pa.list_(pa.string_view())),
            "cats": pa.array([["a", None], None, [], ["a"]], pa.list_(pa.string())).cast(
                pa.list_(pa.dictionary(pa.int8(), pa.string()))
            ),
            "nothing": pa.array([[None], None, [], [None, None]], pa.list_(pa.null())),
            "days": pa.array([[dt.date(2020, 1, 1)], None, [], [None]], pa.list_(pa.date64())),
            "ns": pa.array([[1_000, None], None, [], [-2_000]], pa.list_(pa.timestamp("ns"))),
            "zurich": pa.array(
                [[dt.datetime(2021, 3, 28, 1)], None, [], [None]],
                pa.list_(pa.timestamp("us", "Europe/Zurich")),
            ),
            "dec32": pa.array([[D("1.5")], None, [], [None]], pa.list_(pa.decimal32(3, 1))),
        }
    )
    expected = prepare_arrow(data)
    assert expected.schema.types == [
        pa.list_(pa.int16()), pa.list_(pa.decimal128(20, 0)), pa.list_(pa.float32()),
        *[pa.list_(pa.int64())] * 4, *[pa.list_(pa.string())] * 4, pa.list_(pa.date32()),
        pa.list_(pa.timestamp("us")), pa.list_(pa.timestamp("us", "Europe/Zurich")),
        pa.list_(pa.decimal128(3, 1)),
    ]  # fmt: skip
    assert expected.column("fixed").to_pylist() == data.column("fixed").to_pylist()
    result = roundtrip(loader, conn, schema, table_name, data)
    utc = pa.list_(pa.timestamp("us", "UTC"))
    assert_same(result, expected.set_column(13, "zurich", expected.column("zurich").cast(utc)))
    hinted = loader.read(conn, f"SELECT * FROM {quoted(schema, table_name)}", data.schema)
    for name in ("i8", "u64", "f16", "large", "ns", "zurich"):
        assert hinted.column(name).type == data.column(name).type, name
        assert hinted.column(name).equals(data.column(name)), name


def test_sub_microsecond_list_values_are_refused(loader, conn, schema, table_name):
    data = one_column(pa.array([[1_000, 1]], pa.list_(pa.timestamp("ns"))))
    with pytest.raises(ValueError, match=r"'c'.*without loss"):
        loader.ingest(conn, schema, table_name, data)


def test_unsupported_columns_fail_before_anything_is_written(loader, conn, schema, table_name):
    data = pa.table(
        {
            "fine": pa.array([[1, 2]]),
            "point": pa.array([{"x": 1, "y": 2}]),
            "grid": pa.array([[[1, 2], [3]]]),
            "tags": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64())),
            "blobs": pa.array([[b"\x00"]]),
        }
    )
    for load in (loader.ingest, loader.append):
        with pytest.raises(ValueError) as caught:
            load(conn, schema, table_name, data)
        message = str(caught.value)
        for name, type_text in unsupported_columns(data.schema):
            assert f"{name!r} ({type_text})" in message
        assert [name for name, _ in unsupported_columns(data.schema)] == [
            "point", "grid", "tags", "blobs",
        ]  # fmt: skip
    conn.commit()  # nothing to commit: no statement ran, so the table does not exist
    with conn.cursor() as cur:
        cur.execute(f"SELECT to_regclass('{quoted(schema, table_name)}') IS NULL")
        assert cur.fetchone()[0] is True


def test_numeric_array_precision_comes_from_the_column(loader, conn, schema, table_name):
    data = pa.table(
        {
            "narrow": pa.array([[D("1.50"), None], None], pa.list_(pa.decimal128(10, 2))),
            "exact": pa.array([[D("3")], []], pa.list_(pa.decimal128(10, 2))),  # 3 needs no scale
        }
    )
    assert_same(roundtrip(loader, conn, schema, table_name, data), data)
    result = loader.read(
        conn,
        "SELECT ARRAY[1.5, NULL, -20.125] AS free, ARRAY['NaN', '1']::numeric[] AS nan, "
        f"exact AS again, 1 AS one FROM {quoted(schema, table_name)} LIMIT 1",
    )
    assert result.schema.types == [
        pa.list_(pa.decimal128(38, 3)),  # unconstrained: inferred from the values
        pa.list_(pa.string()),
        pa.list_(pa.decimal128(10, 2)),
        pa.int32(),
    ]
    assert result.column("free").to_pylist() == [[D("1.500"), None, D("-20.125")]]
    assert result.column("nan").to_pylist() == [["NaN", "1"]]


def test_list_timestamptz_read_does_not_depend_on_session_zone(loader, conn, schema, table_name):
    moments = [dt.datetime(1900, 1, 1, 12), dt.datetime(2021, 3, 28, 0, 59, 59, 1), None]
    data = one_column(pa.array([moments, None, []], pa.list_(pa.timestamp("us", "UTC"))))
    loader.ingest(conn, schema, table_name, data)
    conn.commit()
    with conn.cursor() as cur:  # LMT offsets before 1900 have seconds: +00:19:32 in Amsterdam
        cur.execute("SET TimeZone = 'Europe/Amsterdam'")
    assert_same(loader.read(conn, f"SELECT * FROM {quoted(schema, table_name)}"), data)


# ---------------------------------------------------------------- append


def test_append_loads_into_an_existing_table(loader, conn, schema, table_name):
    first = list_table().append_column("n", pa.array(range(5)))
    loader.ingest(conn, schema, table_name, first)
    second = pa.table({"n": [10, 11], "text": pa.array([["y"], None], pa.list_(pa.large_string()))})
    loader.append(conn, schema, table_name, second)
    loader.append(conn, schema, table_name, second.slice(0, 0))
    conn.commit()
    result = loader.read(conn, f"SELECT * FROM {quoted(schema, table_name)} ORDER BY n")
    conn.rollback()
    missing = {name: pa.nulls(2, first.schema.field(name).type) for name in first.column_names}
    expected = pa.concat_tables(
        [first, pa.table({**missing, **prepare_arrow(second).to_pydict()}, schema=first.schema)]
    )
    assert_same(result, expected)


def test_append_runs_no_ddl_and_does_not_commit(loader, conn, server_url, schema, table_name):
    with pytest.raises(Exception, match="does not exist"):
        loader.append(conn, schema, table_name, one_column(pa.array([1])))
    conn.rollback()
    admin_execute(server_url, f"CREATE TABLE {quoted(schema, table_name)} (c int8)")
    loader.append(conn, schema, table_name, one_column(pa.array([1, 2])))
    conn.rollback()
    assert_same(loader.read(conn, f"SELECT * FROM {quoted(schema, table_name)}"),
                one_column(pa.array([], pa.int64())))  # fmt: skip


def test_append_checks_names_before_any_sql(loader, conn, schema, table_name):
    with pytest.raises(ValueError, match="63"):
        loader.append(conn, schema, table_name, one_column(pa.array([1]), "c" * 64))
    with pytest.raises(ValueError, match="63"):
        loader.append(conn, schema, "t" * 64, one_column(pa.array([], pa.int64())))


# ---------------------------------------------------------------- names


ODD_NAMES = ["größe", "名前", "MixedCase", "select", "order", "user", "with space", 'say "hi"']


def test_odd_column_names_are_kept_verbatim(loader, conn, schema, table_name):
    data = pa.table({name: pa.array([i, None]) for i, name in enumerate(ODD_NAMES)})
    result = roundtrip(loader, conn, schema, table_name, data)
    assert result.column_names == ODD_NAMES
    assert_same(result, data)


@pytest.mark.parametrize("name", ["Order", "größe 名前", "select", 'a "quoted" table'])
def test_odd_table_and_schema_names_are_kept_verbatim(loader, conn, server_url, name):
    odd_schema = f"Tabledag Ü {uuid.uuid4().hex[:8]}"
    admin_execute(server_url, f"CREATE SCHEMA {quoted(odd_schema)}")
    try:
        data = one_column(pa.array([1, 2]))
        assert_same(roundtrip(loader, conn, odd_schema, name, data), data)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                f"'{odd_schema}'"
            )
            assert [row[0] for row in cur.fetchall()] == [name]
        conn.rollback()
    finally:
        admin_execute(server_url, f"DROP SCHEMA {quoted(odd_schema)} CASCADE")


@pytest.mark.parametrize(
    ("kind", "name"),
    [("table", "t" * 64), ("table", "é" * 32), ("column", "c" * 64), ("schema", "s" * 64)],
)
def test_names_over_63_bytes_raise_instead_of_truncating(loader, conn, schema, kind, name):
    """Postgres would silently cut these to 63 bytes; the store layer shortens names first."""
    table = name if kind == "table" else "t_long_names"
    target_schema = name if kind == "schema" else schema
    column = name if kind == "column" else "c"
    with pytest.raises(ValueError, match="63"):
        loader.ingest(conn, target_schema, table, one_column(pa.array([1]), column))
    truncated = table.encode()[:63].decode(errors="ignore")
    with conn.cursor() as cur:  # refused before any SQL ran: nothing under a truncated name
        cur.execute(f"SELECT to_regclass('{quoted(schema, truncated)}') IS NULL")
        assert cur.fetchone()[0] is True


def test_name_of_exactly_63_bytes_is_kept(loader, conn, schema):
    name = "é" * 29 + uuid.uuid4().hex[:5]  # 63 bytes in UTF-8
    data = one_column(pa.array([1]), name="ü" * 31 + "y")
    assert_same(roundtrip(loader, conn, schema, name, data), data)


# ---------------------------------------------------------------- behaviour


def test_ingest_does_not_commit(loader, conn, schema, table_name):
    loader.ingest(conn, schema, table_name, one_column(pa.array([1])))
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute(f"SELECT to_regclass('{quoted(schema, table_name)}') IS NULL")
        assert cur.fetchone()[0] is True


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 AS a, 'x%s' AS a",
        "SELECT 1 AS a, 'x%s' AS a ;\n",
        "SELECT 1 AS a, 'x%s' AS a -- c",
    ],
)
def test_read_accepts_semicolons_comments_and_duplicate_names(loader, conn, sql):
    result = loader.read(conn, sql)
    assert result.column_names == ["a", "a"]
    assert result.columns == [pa.chunked_array([[1]], pa.int32()), pa.chunked_array([["x%s"]])]


def test_read_raises_the_database_error(loader, conn):
    with pytest.raises(Exception, match="division by zero"):
        loader.read(conn, "SELECT 1 / (150000 - g) AS x FROM generate_series(1, 300000) AS g")
    conn.rollback()
    assert loader.read(conn, "SELECT 1 AS ok").to_pylist() == [{"ok": 1}]


def test_unconstrained_numeric_is_inferred_from_values(loader, conn, schema, table_name):
    data = one_column(pa.array([D("1.25"), D("-3.50"), None], pa.decimal128(10, 2)))
    loader.ingest(conn, schema, table_name, data)
    conn.commit()
    result = loader.read(
        conn,
        f"SELECT sum(c) AS total, max(c)::numeric AS top, 'NaN'::numeric AS nan, "
        f"'-Infinity'::numeric AS ninf, 1e40::numeric AS huge FROM {quoted(schema, table_name)}",
    )
    assert result.schema.types == [
        pa.decimal128(38, 2),
        pa.decimal128(38, 2),
        pa.string(),  # NaN and infinities have no decimal representation: they stay text
        pa.string(),
        pa.decimal256(76, 0),
    ]
    assert result.to_pylist() == [
        {
            "total": D("-2.25"),
            "top": D("1.25"),
            "nan": "NaN",
            "ninf": "-Infinity",
            "huge": D(10) ** 40,
        }
    ]


def test_a_mismatched_hint_never_loses_the_decimal(loader, conn, schema, table_name):
    data = one_column(pa.array([D("1.2345"), None], pa.decimal128(18, 4)))
    hint = pa.schema([("c", pa.decimal128(10, 2))])  # would need rounding: not applied
    assert_same(roundtrip(loader, conn, schema, table_name, data, schema_hint=hint), data)


@pytest.mark.postgres
def test_both_loaders_return_identical_tables(server_url, schema, table_name):
    adbc_postgres = pytest.importorskip("tabledag.loaders.adbc_postgres")
    psycopg2_copy = importlib.import_module("tabledag.loaders.psycopg2_copy")
    data = scalar_table().append_column("strings", pa.array(STRINGS[:3]))
    with adbc_postgres.connect(server_url) as conn:
        adbc_postgres.ingest(conn, schema, table_name, data)
        conn.commit()
    copy_conn = psycopg2.connect(server_url)
    sql = (
        f"SELECT *, interval '1 year -2 days 03:04:05.000006' AS iv, '{{\"a\": 1}}'::jsonb AS j,"
        f" 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u FROM {quoted(schema, table_name)}"
    )
    with adbc_postgres.connect(server_url) as conn:
        via_adbc = adbc_postgres.read(conn, sql)
    try:
        via_copy = psycopg2_copy.read(copy_conn, sql)
    finally:
        copy_conn.close()
    assert via_copy.schema.equals(via_adbc.schema, check_metadata=True)
    assert_same(via_copy, via_adbc)


ARRAY_EXPRESSIONS = {
    "grid": "'{{1,2},{3,NULL}}'::int8[]",  # multi-dimensional: both flatten
    "bounded": "'[0:1]={5,6}'::int4[]",  # explicit lower bound: dropped
    "grid_text": """'{{"a,b","{c}"},{NULL,"\\\\\\""}}'::text[]""",
    "vc": "ARRAY['a,b', NULL]::varchar(3)[]",
    "bp": "ARRAY['a', '']::char(2)[]",  # padded
    "nm": "ARRAY['x y']::name[]",
    "numeric": "ARRAY[1.5, NULL]::numeric(5, 2)[]",
    "free": "ARRAY[1.5, 2]",
    "no_rows_typed": "'{}'::float4[]",
}


@pytest.mark.postgres
def test_both_loaders_read_arrays_identically(server_url, schema, table_name):
    adbc_postgres = pytest.importorskip("tabledag.loaders.adbc_postgres")
    psycopg2_copy = importlib.import_module("tabledag.loaders.psycopg2_copy")
    with open_connection(adbc_postgres, server_url) as conn:
        adbc_postgres.ingest(conn, schema, table_name, list_table())
        conn.commit()
    extra = ", ".join(f"{sql} AS {name}" for name, sql in ARRAY_EXPRESSIONS.items())
    sql = f"SELECT *, {extra} FROM {quoted(schema, table_name)}"
    with open_connection(adbc_postgres, server_url) as conn:
        via_adbc = adbc_postgres.read(conn, sql)
    with open_connection(psycopg2_copy, server_url) as conn:
        via_copy = psycopg2_copy.read(conn, sql)
    assert via_copy.schema.equals(via_adbc.schema, check_metadata=True)
    for field in via_adbc.schema:
        assert not field.type.value_field.metadata, field.name  # no driver tags left
    assert_same(via_copy, via_adbc)
    first = via_copy.slice(0, 1).to_pylist()[0]
    assert first["grid"] == [1, 2, 3, None]
    assert first["bounded"] == [5, 6]
    assert first["grid_text"] == ["a,b", "{c}", None, '\\"']
    assert first["bp"] == ["a ", "  "]
    assert first["numeric"] == [D("1.50"), None]
    assert via_copy.schema.field("numeric").type == pa.list_(pa.decimal128(5, 2))
    assert first["free"] == [D("1.5"), D("2.0")]


SETTINGS_QUERY = "SELECT current_setting('DateStyle'), current_setting('extra_float_digits')"


@pytest.mark.postgres
def test_psycopg2_read_survives_unusual_session_settings(server_url, schema, table_name):
    psycopg2_copy = importlib.import_module("tabledag.loaders.psycopg2_copy")
    data = scalar_table()
    conn = psycopg2.connect(server_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SET DateStyle = 'SQL, DMY'; SET extra_float_digits = -3")
            cur.execute("SET TimeZone = 'America/New_York'; SET bytea_output = 'escape'")
        conn.commit()
        assert_same(roundtrip(psycopg2_copy, conn, schema, table_name, data), data)
        with conn.cursor() as cur:
            cur.execute(SETTINGS_QUERY)
            assert cur.fetchone() == ("SQL, DMY", "-3")
    finally:
        conn.close()


def test_polars_frame_loads(loader, conn, schema, table_name):
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame(
        {
            "name": ["a", None, "", "größe"],
            "n": [1, None, 3, 4],
            "x": [1.5, None, 2.0, -0.5],
            "at": [dt.datetime(2020, 1, 1), None, dt.datetime(1999, 12, 31, 23, 59), None],
            "ok": [True, None, False, True],
            "kind": pl.Series(["x", "y", None, "x"], dtype=pl.Categorical),
            "amount": pl.Series(["1.50", None, "-2.25", "0"]).cast(pl.Decimal(10, 2)),
            "raw": [b"a", None, b"", b"\x00"],
            "tags": [["a", "b c"], None, [], ["", None]],  # polars: large_list<large_string>
            "scores": [[1.5], None, [], [None, -2.0]],
        }
    )
    data = frame.to_arrow()
    result = roundtrip(loader, conn, schema, table_name, data)
    assert_same(result, prepare_arrow(data))
    assert pl.from_arrow(result).equals(frame.with_columns(pl.col("kind").cast(pl.String)))


def test_pandas_frame_loads(loader, conn, schema, table_name):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "name": ["a", None, "", "größe"],
            "n": [1, 2, 3, 4],
            "maybe": [1.0, None, 3.0, 4.0],
            "at": pd.to_datetime(
                ["2020-01-01", None, "2021-06-01 12:00:00.000001", "1970-01-01"], format="ISO8601"
            ),
            "ok": [True, False, True, False],
            "nums": [[1, 2], None, [], [3]],
            "none_yet": [[], [], [], []],  # list<null> in Arrow: stored as text[]
        }
    )
    data = pa.Table.from_pandas(frame, preserve_index=False)
    result = roundtrip(loader, conn, schema, table_name, data)
    assert_same(result, prepare_arrow(data))
    back = result.to_pandas()
    assert back["name"].tolist()[2] == ""
    assert back["name"].isna().tolist() == [False, True, False, False]
    assert [None if v is None else v.tolist() for v in back["nums"]] == [[1, 2], None, [], [3]]


# ---------------------------------------------------------------- pure type rules


def test_prepare_arrow_is_zero_copy_for_native_types():
    data = scalar_table()
    assert prepare_arrow(data) is data


@pytest.mark.parametrize(
    ("arrow_type", "expected"),
    [
        (pa.int16(), "int2"),
        (pa.int32(), "int4"),
        (pa.int64(), "int8"),
        (pa.uint64(), "numeric(20,0)"),
        (pa.float32(), "float4"),
        (pa.float64(), "float8"),
        (pa.decimal128(18, 4), "numeric(18,4)"),
        (pa.decimal256(50, 10), "numeric(50,10)"),
        (pa.bool_(), "boolean"),
        (pa.string_view(), "text"),
        (pa.binary(), "bytea"),
        (pa.date32(), "date"),
        (pa.time64("us"), "time"),
        (pa.timestamp("us"), "timestamp"),
        (pa.timestamp("us", "Europe/Zurich"), "timestamptz"),
        (pa.duration("us"), "interval"),
        (pa.dictionary(pa.int8(), pa.string()), "text"),
    ],
)
def test_postgres_type(arrow_type, expected):
    assert postgres_type(arrow_type) == expected


@pytest.mark.parametrize(
    ("arrow_type", "expected"),
    [
        (pa.list_(pa.int64()), "int8[]"),
        (pa.list_(pa.int8()), "int2[]"),
        (pa.list_(pa.uint64()), "numeric(20,0)[]"),
        (pa.large_list(pa.large_string()), "text[]"),
        (pa.list_(pa.float32(), 3), "float4[]"),
        (pa.list_view(pa.bool_()), "boolean[]"),
        (pa.list_(pa.dictionary(pa.int8(), pa.string())), "text[]"),
        (pa.list_(pa.date32()), "date[]"),
        (pa.list_(pa.timestamp("ns")), "timestamp[]"),
        (pa.list_(pa.timestamp("us", "UTC")), "timestamptz[]"),
        (pa.list_(pa.decimal128(10, 2)), "numeric(10,2)[]"),
        (pa.list_(pa.null()), "text[]"),
    ],
)
def test_postgres_array_type(arrow_type, expected):
    assert postgres_type(arrow_type) == expected


REFUSED_TYPES = [
    pa.struct([("a", pa.int64())]),
    pa.map_(pa.string(), pa.int64()),
    pa.dense_union([pa.field("x", pa.int64())]),
    pa.run_end_encoded(pa.int32(), pa.int64()),
    pa.list_(pa.list_(pa.int64())),
    pa.large_list(pa.list_(pa.string(), 2)),
    pa.list_(pa.struct([("a", pa.int64())])),
    pa.list_(pa.binary()),
    pa.list_(pa.time64("us")),
    pa.list_(pa.duration("us")),
    pa.list_(pa.month_day_nano_interval()),
    pa.list_(pa.uuid()),
    pa.dictionary(pa.int8(), pa.list_(pa.list_(pa.int8()))),
]


@pytest.mark.parametrize("arrow_type", REFUSED_TYPES, ids=str)
def test_types_without_a_faithful_column_are_refused(arrow_type):
    with pytest.raises(TypeError, match=str(arrow_type).split("<")[0]):
        postgres_type(arrow_type)
    schema = pa.schema([("fine", pa.list_(pa.int64())), ("odd", arrow_type)])
    assert unsupported_columns(schema) == [("odd", str(arrow_type))]


def test_unsupported_columns_lists_every_refused_column_in_order():
    schema = pa.schema(
        [("ok", pa.int64()), ("s", pa.struct([("a", pa.int8())])), ("l", pa.list_(pa.string()))]
        + [(f"r{i}", t) for i, t in enumerate(REFUSED_TYPES[1:4])]
    )
    assert unsupported_columns(schema) == [
        ("s", "struct<a: int8>"),
        ("r0", "map<string, int64>"),
        ("r1", "dense_union<x: int64=0>"),
        ("r2", "run_end_encoded<run_ends: int32, values: int64>"),
    ]
    assert unsupported_columns(list_table().schema) == []
    assert unsupported_columns(scalar_table().schema) == []


def test_prepare_arrow_names_every_refused_column_and_the_remedy():
    data = pa.table(
        {
            "ok": [1],
            "point": pa.array([{"x": 1}]),
            "grid": pa.array([[[1]]]),
            "blobs": pa.array([[b"x"]]),
        }
    )
    with pytest.raises(ValueError, match="convert each to a string") as caught:
        prepare_arrow(data)
    message = str(caught.value)
    for name, type_text in unsupported_columns(data.schema):
        assert f"{name!r} ({type_text})" in message
    assert "'ok'" not in message
    with pytest.raises(ValueError, match="'point'"):
        column_type_names(data.schema)


def test_list_parts_of_a_slice_cover_only_its_elements():
    lists = pa.array([[1, 2], None, [3], [], [4, 5, 6], [7]])
    offsets, values, mask = list_parts(lists.slice(2, 3))
    assert offsets.tolist() == [0, 1, 1, 4]
    assert values.to_pylist() == [3, 4, 5, 6]
    assert mask is None
    fixed = pa.array([[1, 2], None, [3, 4]], pa.list_(pa.int64(), 2)).slice(1)
    offsets, values, mask = list_parts(fixed)
    assert (offsets.tolist(), values.to_pylist(), mask.to_pylist()) == (
        [0, 0, 2],
        [3, 4],
        [True, False],
    )
    assert list_from_parts(offsets, values, mask).to_pylist() == [None, [3, 4]]


def test_column_type_names_feed_create_table():
    data = prepare_arrow(list_table())
    names = column_type_names(data.schema)
    assert [name for name, _ in names] == data.column_names
    assert dict(names)["dec"] == "numeric(10,2)[]"
    assert dict(names)["tz"] == "timestamptz[]"
    ddl = create_table_sql("s", "t", data.schema)
    assert ddl == 'CREATE TABLE "s"."t" (' + ", ".join(f'"{n}" {t}' for n, t in names) + ")"


def test_skip_message_hides_password():
    assert _redacted("postgresql://bob:s3cret@db:5432/x") == "postgresql://bob:***@db:5432/x"
    assert _redacted(DEFAULT_URL) == DEFAULT_URL
