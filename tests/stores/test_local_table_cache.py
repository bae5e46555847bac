"""The local table cache on Postgres: rows read are counted by the server.

Every session of the flow connects with an `application_name` of the test's own; after a run
the test waits until the server has no backend of that name left. A backend reports its table
statistics before it leaves `pg_stat_activity` (PostgreSQL flushes them in a shutdown hook
that runs before the activity entry is cleared), so the counters read then are complete:
`seq_tup_read + idx_tup_fetch` of one physical table is every row any session read from it.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tabledag import ConfigError, Flow, ParquetTableCache, Stage, create_basic_config, materialize
from tabledag.outputs import TableRef
from tests import dbutil


@materialize()
def source(n: int) -> pa.Table:
    return pa.table({"x": list(range(n)), "s": [f"row {i}" for i in range(n)]})


@materialize(input_type=pa.Table)
def count(t: pa.Table) -> pa.Table:
    return pa.table({"rows": [t.num_rows], "total": [sum(t.column("x").to_pylist())]})


def flow_of(n: int) -> tuple[Flow, object]:
    with Flow("cached") as flow:
        with Stage("raw"):
            src = source(n)
        with Stage("counts"):
            counted = count(src)
    return flow, counted


class Server:
    """The test's view of the server: its own application name, and row counters."""

    def __init__(self, target, cache_dir: Path, **cache: bool) -> None:
        self.app = f"tdg_cache_{uuid.uuid4().hex[:10]}"
        parts = urlsplit(target.url)
        query = f"{parts.query}&" if parts.query else ""
        url = urlunsplit((*parts[:3], f"{query}application_name={self.app}", parts.fragment))
        self.config = create_basic_config(
            url,
            schema_prefix=target.schema_prefix,
            local_table_cache={"base_path": str(cache_dir), **cache},
        )
        self.outside = target.config()
        """The same database and schemas, on connections of another application name."""

    def run(self, n: int) -> pa.Table:
        flow, counted = flow_of(n)
        result = flow.run(config=self.config)
        assert result.successful, result.exception
        value = result.get(counted)
        result.close()
        self.settle()
        return value

    def settle(self) -> None:
        """Wait until every backend of this test's sessions has ended (and so reported)."""
        deadline = time.monotonic() + 60
        sql = f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{self.app}'"
        while dbutil.query(self.outside, sql) != [(0,)]:
            assert time.monotonic() < deadline, "the flow's sessions did not end"
            time.sleep(0.02)

    def rows_read(self, stage: str = "raw", view: str = "source") -> int:
        physical = dbutil.view_target(self.outside, stage, view)
        schema = self.outside.store.data_schema_name(stage)
        rows = dbutil.query(
            self.outside,
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
            f"FROM pg_stat_user_tables WHERE schemaname = '{schema}' AND relname = '{physical}'",
        )
        assert len(rows) == 1, rows
        return int(rows[0][0])

    def cache_files(self) -> list[Path]:
        base = Path(self.config.store.catalogue.local_table_cache.base_path)
        return sorted(p for p in base.rglob("*.parquet") if "source__" in p.name)


def expected(n: int) -> list[dict[str, int]]:
    return [{"rows": n, "total": sum(range(n))}]


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_second_read_of_an_unchanged_table_reads_no_database_rows(target, tmp_path) -> None:
    server = Server(target, tmp_path / "cache")
    assert server.run(100).to_pylist() == expected(100)
    assert server.rows_read() == 100  # read once from the database, and kept
    assert len(server.cache_files()) == 1
    assert server.run(100).to_pylist() == expected(100)
    assert server.rows_read() == 100  # the second read came from the cache
    # a changed table has another key: read from the database again
    assert server.run(120).to_pylist() == expected(120)
    assert server.rows_read() == 120
    assert len(server.cache_files()) == 2
    assert server.run(120).to_pylist() == expected(120)
    assert server.rows_read() == 120


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_stored_outputs_are_read_from_the_cache_at_once(target, tmp_path) -> None:
    server = Server(target, tmp_path / "cache", store_output=True)
    assert server.run(50).to_pylist() == expected(50)
    assert server.rows_read() == 0  # written to the database and the cache, read from the cache
    assert len(server.cache_files()) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_without_use_stored_input_the_database_is_read(target, tmp_path) -> None:
    server = Server(target, tmp_path / "cache", use_stored_input_as_cache=False)
    server.run(30)
    server.run(30)
    assert server.rows_read() == 60
    assert len(server.cache_files()) == 1  # still stored (store_input)


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
@pytest.mark.parametrize("damage", ["cut short", "garbage", "another key"])
def test_a_damaged_cache_file_is_ignored_and_rewritten(target, tmp_path, damage: str) -> None:
    server = Server(target, tmp_path / "cache")
    server.run(40)
    (path,) = server.cache_files()
    good = path.read_bytes()
    if damage == "cut short":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a parquet file" * 10)
    else:  # a whole, valid file written for another key
        pq.write_table(
            pa.table({"x": [1], "s": ["y"]}).replace_schema_metadata(
                {b"tabledag.cache_key": b"0" * 32}
            ),
            path,
        )
    assert server.run(40).to_pylist() == expected(40)
    assert server.rows_read() == 80  # read from the database again
    data = pq.read_table(path)  # and rewritten whole
    assert data.num_rows == 40
    assert server.run(40).to_pylist() == expected(40)
    assert server.rows_read() == 80


def test_concurrent_readers_see_whole_files_or_none(tmp_path) -> None:
    cache = ParquetTableCache(str(tmp_path), scope="s")
    ref = TableRef("raw", "t", "k" * 32)
    data = pa.table({"x": list(range(50_000))})
    seen: list[int | None] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            got = cache.get(ref)
            seen.append(None if got is None else got.num_rows)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for _ in range(10):
            cache.put(ref, data)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert set(seen) <= {None, 50_000} and 50_000 in {*seen, cache.get(ref).num_rows}
    assert cache.get(ref).equals(data)
    assert [p.name for p in cache.path(ref).parent.iterdir()] == [cache.path(ref).name]


def test_the_cache_is_configured_in_tabledag_yaml(tmp_path, monkeypatch) -> None:
    from tabledag import Config

    (tmp_path / "tabledag.yaml").write_text(
        "instances:\n"
        "  __any__:\n"
        "    table_store:\n"
        "      class: tabledag.SQLTableStore\n"
        "      args: {url: 'duckdb:///{instance_id}.duckdb'}\n"
        "      local_table_cache:\n"
        "        class: ParquetTableCache\n"
        "        store_output: true\n"
        "        args: {base_path: '/tmp/tdg-cache/{instance_id}'}\n"
    )
    cache = Config.load(tmp_path).get().store.catalogue.local_table_cache
    assert isinstance(cache, ParquetTableCache)
    assert cache.base_path == "/tmp/tdg-cache/pipeline"
    assert (cache.store_input, cache.store_output, cache.use_stored_input_as_cache) == (
        True,
        True,
        True,
    )
    with pytest.raises(ConfigError, match=r"unknown key 'store_inptu'.*'store_input'"):
        _ = create_basic_config(
            "duckdb:///x.duckdb", local_table_cache={"base_path": "/tmp", "store_inptu": True}
        ).store
    with pytest.raises(ConfigError, match="needs a `base_path`"):
        _ = create_basic_config("duckdb:///x.duckdb", local_table_cache={}).store


@materialize()
def typed() -> pa.Table:
    from tests.stores.test_golden_sql import ARROW, frame_data

    return frame_data(ARROW)


@materialize(input_type=pa.Table)
def passed_on(t: pa.Table) -> pa.Table:
    return t


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_a_cached_table_reads_as_the_database_gives_it(target, tmp_path) -> None:
    """Every column type comes back from the cache as it came from the database."""
    server = Server(target, tmp_path / "cache")
    with Flow("types") as flow:
        with Stage("raw"):
            src = typed()
        with Stage("copy"):
            passed_on(src)
    seen = []
    for _ in range(2):
        result = flow.run(config=server.config)
        assert result.successful, result.exception
        server.settle()
        physical = dbutil.view_target(server.outside, "copy", "passed_on")
        types = dbutil.query(
            server.outside,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
            f"'{server.outside.store.data_schema_name('copy')}' AND table_name = '{physical}' "
            "ORDER BY ordinal_position",
        )
        seen.append((types, dbutil.read_view(server.outside, "copy", "passed_on", "id")))
    assert server.rows_read("raw", "typed") == 3  # the second read was the cache's
    assert seen[0] == seen[1] and len(seen[0][1]) == 3
    ref = result.outputs[next(c for c in result.outputs if c.name == "typed")]
    with server.config.store.session() as session:
        session.store.catalogue.local_table_cache.path(ref).unlink()  # read the db again
        from_database = session.read_arrow(ref)
        from_cache = session.read_arrow(ref)
    assert from_cache.schema.equals(from_database.schema, check_metadata=True)
    assert from_cache.equals(from_database)
