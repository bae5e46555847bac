"""Sessions and locks are objects of their own: a store opens independent sessions (a cursor per
session on DuckDB, a connection per session on Postgres), usable from several threads, and the
locks guarding an instance are held apart from every session; S3 credentials stay secret."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from tabledag import Config, Flow, LockError, Stage, materialize

from ..conftest import StoreTarget


@materialize()
def rows() -> pa.Table:
    return pa.table({"x": list(range(100))})


@pytest.mark.parametrize("store_kind", ["duckdb", "postgres"], indirect=True)
def test_sessions_are_independent_connections(target: StoreTarget) -> None:
    config = target.config()
    with Flow("f") as flow, Stage("s"):
        ref = rows()
    result = flow.run(config=config)
    assert result.successful, repr(result.exception)
    table = result.outputs[ref.call]
    store = config.store
    with store.session() as a, store.session() as b:
        schema = store.schema_name("scratch")
        a.connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        a.connection.begin()
        a.connection.execute(f'CREATE TABLE "{schema}"."only_in_a" AS SELECT 1 AS one')
        seen_by_b = b.connection.execute(
            f"SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_in_a' "
            f"AND table_schema = '{schema}'"
        )
        assert seen_by_b == [(0,)]  # a's open transaction is a's alone
        a.connection.rollback()
        # and both read at once, from two threads
        counts: list[int] = []

        def read(session) -> None:
            counts.append(session.read_arrow(table).num_rows)

        threads = [threading.Thread(target=read, args=(s,)) for s in (a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert counts == [100, 100]
    result.close()


@pytest.mark.parametrize("store_kind", ["postgres"], indirect=True)
def test_locks_are_held_apart_from_sessions(target: StoreTarget) -> None:
    """The driving process holds a stage lock; another run of the instance times out on it,
    while sessions of both keep working."""
    config = target.config()
    holder = config.store.locks(timeout=5)
    other = target.config().store.locks(timeout=0.2)
    try:
        with holder.run(), holder.stage("s"):
            with config.store.session() as session:
                assert session.connection.execute("SELECT 1") == [(1,)]
            with other.run():  # leases are shared: runs may overlap
                with pytest.raises(LockError, match="stage 's'"), other.stage("s"):
                    pass
                with other.stage("t"):  # another stage is free
                    pass
        with other.run(), other.stage("s"):  # released with the block
            pass
    finally:
        holder.close()
        other.close()


@pytest.mark.s3
def test_s3_credentials_never_show(s3, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    args = {
        "parquet_base_path": s3.url("files"),
        "url": f"duckdb:///{tmp_path}/catalogue.duckdb",
        "print_sql": True,
        **s3.store_args,
        "s3_access_key_id": s3.access_key_id,
        "s3_secret_access_key": s3.secret_access_key,
    }
    config = Config("pipeline", {"class": "tabledag.ParquetTableStore", "args": args})

    @materialize(lazy=True)
    def broken() -> str:
        return "SELECT * FROM no_such_table"

    with Flow("f") as flow, Stage("s"):
        rows()
        broken()
    with caplog.at_level(logging.DEBUG):
        result = flow.run(config=config)
    assert not result.successful  # `broken` fails: its error must not carry secrets either
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("tabledag"))
    assert s3.secret_access_key not in caplog.text  # nobody logs the secret, botocore included
    texts = [
        repr(config),
        repr(config.store),
        repr(result),
        str(result.exception),
        repr(result.exception.__cause__),
        ours,
        *(json.dumps(s3.fs.cat_file(p).decode()) for p in s3.fs.find(s3.path("files"))
          if p.endswith(".json")),
    ]  # fmt: skip
    assert "SELECT" in ours  # print_sql logged statements
    for text in texts:
        assert s3.secret_access_key not in text
        assert s3.access_key_id not in text
    result.close()
