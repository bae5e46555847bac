"""The stores the benchmarks compare, each with its raw ceiling: the fastest way to do the same
work without tabledag, on a fresh instance of the same kind.

`open_store(kind, workdir)` gives a `BenchStore`; `store.fresh()` is a new empty instance:
`.config()` a tabledag `Config` on it (the same object for reruns), `.raw` a `Raw` doing the
same work directly:

- duckdb: SQLTableStore on a DuckDB file; raw: CREATE TABLE AS from Arrow, CREATE TABLE AS,
  `.to_arrow_table()`.
- postgres: SQLTableStore, a database per instance; raw: ADBC `adbc_ingest`, CREATE TABLE AS
  (psycopg2), ADBC `fetch_arrow_table`.
- parquet: ParquetTableStore on local disk; raw: `pq.write_table`, DuckDB `COPY (...) TO`,
  `pq.read_table`.
- parquet_s3: ParquetTableStore on moto's S3 server (loopback); raw: the same through s3fs.
- memory: ArrowTableStore; raw: DuckDB `register` (a view of the Arrow table),
  `.to_arrow_table()`, the table itself.
- snowflake: SQLTableStore on fakesnow's server; raw: PUT of a parquet file + COPY INTO,
  CREATE TABLE AS, `fetch_arrow_all`.

Keys and indexes are declared in the raw loads too where the store keeps them (DuckDB,
Postgres), so both sides do the same work.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _common as c

KINDS = ("duckdb", "postgres", "parquet", "parquet_s3", "memory", "snowflake")
KEYED = ("duckdb", "postgres")
"""The stores where primary keys and indexes exist (the others skip them, as tabledag does)."""


@dataclass
class Instance:
    kind: str
    _config: Any
    raw: Raw

    def config(self, **extra: Any) -> Any:
        """The instance's Config (`extra`: a new Config with these Config fields)."""
        if not extra:
            return self._config
        import dataclasses

        return dataclasses.replace(self._config, **extra)


class Raw:
    """The same work without tabledag (one connection, opened by `open()`)."""

    kind = ""

    def open(self) -> None: ...

    def close(self) -> None: ...

    def load(self, name: str, table: Any, keys: dict[str, Any] | None) -> None:
        raise NotImplementedError

    def query(self, name: str, sql: str) -> None:
        """Write the result of `sql` as table `name` (the store's way for lazy outputs)."""
        raise NotImplementedError

    def read(self, name: str) -> Any:
        raise NotImplementedError

    def table_ref(self, name: str) -> str:
        """How queries reference loaded table `name`."""
        return name

    def statements(self, statements: list[str]) -> None:
        """Run DDL statements one by one (the tiny-task chain)."""
        raise NotImplementedError


class DuckDBRaw(Raw):
    kind = "duckdb"

    def __init__(self, path: str) -> None:
        self.path = path
        self.con: Any = None

    def open(self) -> None:
        import duckdb

        self.con = duckdb.connect(self.path)
        self.con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        self.con.execute("CREATE SCHEMA IF NOT EXISTS out")

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def load(self, name: str, table: Any, keys: dict[str, Any] | None) -> None:
        self.con.register("src", table)
        self.con.execute(f"CREATE TABLE raw.{name} AS SELECT * FROM src")
        self.con.unregister("src")
        _keys(self.con.execute, f"raw.{name}", name, keys)

    def query(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE TABLE out.{name} AS {sql}")

    def read(self, name: str) -> Any:
        return self.con.sql(f"SELECT * FROM raw.{name}").to_arrow_table()

    def table_ref(self, name: str) -> str:
        return f"raw.{name}"

    def statements(self, statements: list[str]) -> None:
        for sql in statements:
            self.con.execute(sql)


def _keys(execute: Any, target: str, name: str, keys: dict[str, Any] | None) -> None:
    if not keys:
        return
    if keys.get("primary_key"):
        execute(f"ALTER TABLE {target} ADD PRIMARY KEY ({', '.join(keys['primary_key'])})")
    for i, columns in enumerate(keys.get("indexes") or ()):
        execute(f"CREATE INDEX {name}_idx{i} ON {target} ({', '.join(columns)})")


class PostgresRaw(Raw):
    kind = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self.adbc: Any = None
        self.pg: Any = None

    def open(self) -> None:
        import adbc_driver_postgresql.dbapi as adbc
        import psycopg2

        self.adbc = adbc.connect(self.url)
        self.pg = psycopg2.connect(self.url)
        self.pg.autocommit = True
        with self.pg.cursor() as cur:
            cur.execute("CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS out")

    def close(self) -> None:
        for con in (self.adbc, self.pg):
            if con is not None:
                con.close()
        self.adbc = self.pg = None

    def load(self, name: str, table: Any, keys: dict[str, Any] | None) -> None:
        with self.adbc.cursor() as cur:
            cur.adbc_ingest(name, table, mode="create", db_schema_name="raw")
        self.adbc.commit()
        with self.pg.cursor() as cur:
            _keys(cur.execute, f"raw.{name}", name, keys)
            cur.execute(f"ANALYZE raw.{name}")

    def query(self, name: str, sql: str) -> None:
        with self.pg.cursor() as cur:
            cur.execute(f"CREATE TABLE out.{name} AS {sql}")

    def read(self, name: str) -> Any:
        with self.adbc.cursor() as cur:
            cur.execute(f"SELECT * FROM raw.{name}")
            return cur.fetch_arrow_table()

    def table_ref(self, name: str) -> str:
        return f"raw.{name}"

    def statements(self, statements: list[str]) -> None:
        with self.pg.cursor() as cur:
            for sql in statements:
                cur.execute(sql)


class ParquetRaw(Raw):
    """Files under `base` (a local directory or `s3://bucket/prefix` with `fs`), queried by an
    in-memory DuckDB through views over the files, lazy results written with `COPY ... TO`."""

    kind = "parquet"

    def __init__(self, base: str, fs: Any = None) -> None:
        self.base = base.rstrip("/")
        self.fs = fs
        self.con: Any = None

    def _path(self, name: str) -> str:
        return f"{self.base}/{name}.parquet"

    def open(self) -> None:
        import duckdb

        self.con = duckdb.connect()
        if self.fs is not None:
            self.con.register_filesystem(self.fs)
        else:
            Path(self.base).mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def load(self, name: str, table: Any, keys: dict[str, Any] | None) -> None:
        import pyarrow.parquet as pq

        path = self._path(name)
        if self.fs is not None:
            pq.write_table(table, path.removeprefix("s3://"), filesystem=self.fs)
        else:
            pq.write_table(table, path)
        self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")

    def query(self, name: str, sql: str) -> None:
        self.con.execute(f"COPY ({sql}) TO '{self._path('out_' + name)}' (FORMAT parquet)")

    def read(self, name: str) -> Any:
        import pyarrow.parquet as pq

        path = self._path(name)
        if self.fs is not None:
            return pq.read_table(path.removeprefix("s3://"), filesystem=self.fs)
        return pq.read_table(path)

    def statements(self, statements: list[str]) -> None:
        for sql in statements:  # CREATE TABLE x AS q -> COPY (q) TO file, and a view of it
            if sql.startswith("CREATE SCHEMA"):
                self.con.execute(sql)
                continue
            head, query = sql.split(" AS ", 1)
            name = head.split()[-1].replace('"', "").replace(".", "_")
            self.con.execute(f"COPY ({query}) TO '{self._path(name)}' (FORMAT parquet)")
            self.con.execute(
                f"CREATE VIEW IF NOT EXISTS {head.split()[-1]} AS "
                f"SELECT * FROM read_parquet('{self._path(name)}')"
            )


class MemoryRaw(Raw):
    """Arrow tables held in Python, queried by an in-memory DuckDB."""

    kind = "memory"

    def __init__(self) -> None:
        self.con: Any = None
        self.tables: dict[str, Any] = {}

    def open(self) -> None:
        import duckdb

        self.con = duckdb.connect()

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None
        self.tables.clear()

    def load(self, name: str, table: Any, keys: dict[str, Any] | None) -> None:
        self.tables[name] = table
        self.con.register(name, table)

    def query(self, name: str, sql: str) -> None:
        self.tables[name] = self.con.sql(sql).to_arrow_table()

    def read(self, name: str) -> Any:
        return self.tables[name]

    def statements(self, statements: list[str]) -> None:
        for sql in statements:
            if sql.startswith("CREATE SCHEMA"):
                self.con.execute(sql)
                continue
            head, query = sql.split(" AS ", 1)
            target = head.split()[-1]
            data = self.con.sql(query).to_arrow_table()
            self.tables[target] = data
            flat = target.replace('"', "").replace(".", "_")
            self.con.register(flat, data)
            self.con.execute(f"CREATE VIEW {target} AS SELECT * FROM {flat}")


class SnowflakeRaw(Raw):
    kind = "snowflake"

    def __init__(self, connect_kwargs: dict[str, Any], database: str) -> None:
        self.kwargs = connect_kwargs
        self.database = database
        self.con: Any = None

    def open(self) -> None:
        import snowflake.connector

        self.con = snowflake.connector.connect(**self.kwargs)
        cur = self.con.cursor()
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        cur.execute(f"USE DATABASE {self.database}")
        cur.execute("CREATE SCHEMA IF NOT EXISTS raw")
        cur.execute("CREATE SCHEMA IF NOT EXISTS out")

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def load(self, name: str, table: Any, keys: dict[str, Any] | None) -> None:
        """CREATE TABLE, then a parquet file PUT to a temporary stage and COPY INTO (the bulk
        path Snowflake documents, and the one tabledag takes)."""
        import os

        import pyarrow.parquet as pq

        cur = self.con.cursor()
        columns = ", ".join(f"{f.name.upper()} {_snowflake_type(f.type)}" for f in table.schema)
        cur.execute(f"CREATE TABLE raw.{name} ({columns})")
        cur.execute("CREATE TEMPORARY STAGE IF NOT EXISTS raw.bench_stage")
        renamed = table.rename_columns([c.upper() for c in table.column_names])
        with tempfile.TemporaryDirectory(prefix="bench-snowflake-") as directory:
            path = os.path.join(directory, f"{name}.parquet")
            pq.write_table(renamed, path, compression="snappy")
            cur.execute(f"PUT 'file://{path}' @raw.bench_stage/{name} AUTO_COMPRESS = FALSE")
            cur.execute(
                f"COPY INTO raw.{name} FROM @raw.bench_stage/{name} FILE_FORMAT = (TYPE = "
                "PARQUET USE_LOGICAL_TYPE = TRUE) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE "
                "PURGE = TRUE"
            )

    def query(self, name: str, sql: str) -> None:
        self.con.cursor().execute(f"CREATE TABLE out.{name} AS {sql}")

    def read(self, name: str) -> Any:
        cur = self.con.cursor()
        cur.execute(f"SELECT * FROM raw.{name}")
        return cur.fetch_arrow_all()

    def table_ref(self, name: str) -> str:
        return f"raw.{name}"

    def statements(self, statements: list[str]) -> None:
        cur = self.con.cursor()
        for sql in statements:
            cur.execute(sql)


def _snowflake_type(t: Any) -> str:
    import pyarrow as pa

    if pa.types.is_decimal(t):
        return f"NUMBER({t.precision}, {t.scale})"
    if pa.types.is_integer(t):
        return "NUMBER(38, 0)"
    if pa.types.is_floating(t):
        return "FLOAT"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP_NTZ" if t.tz is None else "TIMESTAMP_TZ"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    return "VARCHAR"


class BenchStore:
    """Fresh instances of one store kind under `workdir`; `check()` says why it cannot run."""

    def __init__(self, kind: str, workdir: Path) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown store {kind!r} (one of {', '.join(KINDS)})")
        self.kind = kind
        self.root = Path(tempfile.mkdtemp(prefix=f"bench_{kind}_", dir=workdir))
        self._n = itertools.count()
        self._pg = c.PostgresTarget() if kind == "postgres" else None
        self._s3: Any = None
        self._sf: Any = None

    def check(self) -> str | None:
        if self._pg is not None:
            return self._pg.check()
        if self.kind == "parquet_s3":
            try:
                import s3fs  # noqa: F401
                from moto.server import ThreadedMotoServer  # noqa: F401
            except ImportError as error:
                return f"s3fs or moto[server] is not installed ({error})"
        if self.kind == "snowflake":
            try:
                import fakesnow  # noqa: F401
                import snowflake.connector  # noqa: F401
            except ImportError as error:
                return f"fakesnow is not installed here ({error}): nox -s tests_snowflake's venv"
        return None

    @contextlib.contextmanager
    def fresh(self) -> Iterator[Instance]:
        n = next(self._n)
        directory = self.root / f"i{n}"
        directory.mkdir()
        try:
            if self.kind == "postgres":
                assert self._pg is not None
                with self._pg.fresh() as db:
                    yield Instance(self.kind, db.config(), PostgresRaw(db.raw_url))
                return
            yield self._instance(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def _instance(self, directory: Path) -> Instance:
        from tabledag import Config, create_basic_config

        if self.kind == "duckdb":
            config = create_basic_config(f"duckdb:///{directory}/db.duckdb")
            return Instance(self.kind, config, DuckDBRaw(str(directory / "ceiling.duckdb")))
        if self.kind == "parquet":
            args = {"url": f"duckdb:///{directory}/catalogue.duckdb"}
            args["parquet_base_path"] = str(directory / "files")
            config = Config("pipeline", {"class": "tabledag.ParquetTableStore", "args": args})
            return Instance(self.kind, config, ParquetRaw(str(directory / "raw")))
        if self.kind == "parquet_s3":
            bucket = self._bucket()
            prefix = f"i{uuid.uuid4().hex[:8]}"
            args = {
                "url": f"duckdb:///{directory}/catalogue.duckdb",
                "parquet_base_path": bucket.url(prefix, "files"),
                **bucket.store_args,
                "s3_access_key_id": bucket.access_key_id,
                "s3_secret_access_key": bucket.secret_access_key,
            }
            config = Config("pipeline", {"class": "tabledag.ParquetTableStore", "args": args})
            return Instance(
                self.kind, config, ParquetRaw(bucket.url(prefix, "raw"), bucket.new_fs())
            )
        if self.kind == "memory":
            config = Config("pipeline", {"class": "tabledag.ArrowTableStore", "args": {}})
            return Instance(self.kind, config, MemoryRaw())
        if self.kind == "snowflake":
            from tests import snowflake_server

            database = f"b{uuid.uuid4().hex[:10]}"
            url = snowflake_server.url(database)
            args = {"create_database_if_not_exists": True, "commit": "replace_views"}
            config = create_basic_config(url, **args)
            raw = SnowflakeRaw(snowflake_server.connection_kwargs(), f"r{database}")
            return Instance(self.kind, config, raw)
        raise ValueError(self.kind)

    def _bucket(self) -> Any:
        if self._s3 is None:
            from tests import s3server

            server = s3server.get_server()
            self._s3 = s3server.create_bucket(server)
        return self._s3

    def close(self) -> None:
        if self._s3 is not None:
            with contextlib.suppress(Exception):
                self._s3.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)
