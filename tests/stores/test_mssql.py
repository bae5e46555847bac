"""SQL Server without a server: the seed's URL as written, connection settings, errors when the
ODBC driver (or pyodbc) is missing, and the loader's data checks. What needs a server runs in
the behaviour suite and tests/stores/test_golden_sql.py with TABLEDAG_TEST_MSSQL_URL set."""

from __future__ import annotations

import datetime as dt
import struct

import pyarrow as pa
import pytest

from tabledag import SQLTableStore
from tabledag.errors import ConfigError, StoreConnectionError
from tabledag.loaders import mssql_odbc
from tabledag.loaders.mssql_odbc import odbc_settings

SEED_URL = (
    "mssql+pyodbc://user:password@127.0.0.1:1433/{instance_id}"
    "?driver=ODBC+Driver+18+for+SQL+Server&encrypt=no"
)


def test_the_seed_url_names_the_instance_database() -> None:
    store = SQLTableStore(SEED_URL, instance_id="nightly", create_database_if_not_exists=True)
    odbc = store.dialect.odbc
    assert store.dialect.database == "nightly"
    assert odbc.split(";")[:3] == [
        "DRIVER={ODBC Driver 18 for SQL Server}",
        "SERVER=127.0.0.1,1433",
        "DATABASE=nightly",
    ]
    assert "Encrypt=no" in odbc.split(";") and "UID=user" in odbc.split(";")
    assert "password" not in repr(store)


def test_odbc_values_with_separators_are_braced() -> None:
    odbc, database, bcp = odbc_settings(
        "mssql+pyodbc://me:p%3Bw%7D@db.example:1444/sales?TrustServerCertificate=yes"
    )
    assert "PWD={p;w}}}" in odbc and database == "sales"
    assert bcp[:4] == ["-S", "db.example,1444", "-d", "sales"] and "-u" in bcp


def test_odbc_connect_passes_a_whole_connection_string() -> None:
    odbc, database, _ = odbc_settings(
        "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7Bx%7D%3BDATABASE%3Dwh%3BServer%3Dh"
    )
    assert odbc == "DRIVER={x};DATABASE=wh;Server=h" and database == "wh"


def test_an_unknown_bulk_driver_is_refused() -> None:
    with pytest.raises(ConfigError, match="arrow-odbc"):
        SQLTableStore(SEED_URL, driver="turbo")


def test_connecting_without_the_driver_names_the_fix_and_hides_the_password() -> None:
    """Here either pyodbc, the ODBC driver manager or Microsoft's driver is missing (none of
    these machines has all three and a server): the error says what to install."""
    store = SQLTableStore(SEED_URL.replace("password", "s3cret-pw"), instance_id="x")
    with pytest.raises(StoreConnectionError) as caught:
        store.dialect.connect()
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "tabledag[mssql]" in message or "docs/odbc.md" in message


def test_bcp_refuses_what_character_mode_cannot_carry() -> None:
    assert mssql_odbc.bcp_can_spell(pa.table({"a": ["x", None], "n": [1, 2]}))
    assert not mssql_odbc.bcp_can_spell(pa.table({"a": ["x", ""]}))  # -k reads "" as NULL
    assert not mssql_odbc.bcp_can_spell(pa.table({"a": ["x\x1fy"]}))


def test_plain_columns_unwraps_what_odbc_writers_cannot_bind() -> None:
    data = pa.table(
        {
            "d": pa.array(["a", "b", "a"]).dictionary_encode(),
            "l": pa.array(["x", "y", "z"], pa.large_string()),
            "n": [1, 2, 3],
            "tiny": pa.array([-128, 0, 127], pa.int8()),
            "u": pa.array([0, 2**64 - 1, 1], pa.uint64()),
        }
    )
    plain = mssql_odbc.plain_columns(data)
    assert plain.schema == pa.schema(
        [
            ("d", pa.string()),
            ("l", pa.string()),
            ("n", pa.int64()),
            ("tiny", pa.int16()),  # TINYINT is unsigned: -128 must not be bound as one
            ("u", pa.decimal128(20, 0)),
        ]
    )
    assert plain.column("u").to_pylist()[1] == 2**64 - 1
    assert plain.column("d").to_pylist() == ["a", "b", "a"]


def test_datetimeoffset_values_read_with_their_offset() -> None:
    raw = struct.pack("<6hI2h", 2024, 5, 6, 7, 8, 9, 10_000, 2, 30)
    value = mssql_odbc._datetimeoffset(raw)
    assert value == dt.datetime(
        2024, 5, 6, 7, 8, 9, 10, tzinfo=dt.timezone(dt.timedelta(hours=2, minutes=30))
    )
