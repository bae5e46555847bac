"""Groundwork for the parquet store on S3 (issue 15): the recipes it relies on, proven against
moto's server over real HTTP with the real clients.

a. writes that a reader sees whole or not at all (manifests), b. pyarrow through s3fs,
c. polars' own object_store, d. DuckDB with a registered s3fs and no httpfs, e. where
credentials come from and what errors show, f. listings and s3fs' listings cache.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from . import s3server
from .s3server import SECRET_ACCESS_KEY, MotoServer, S3Bucket

NO_EXTENSIONS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
MIB = 2**20


def small_table() -> pa.Table:
    return pa.table({"a": [1, 2, 3], "b": ["x", "y", "ü é"]})


def sql_literal(path: str) -> str:
    """A DuckDB string literal: single quotes, a quote inside doubled."""
    return "'" + path.replace("'", "''") + "'"


def requests_for(server: MotoServer, since: int, fragment: str) -> list[str]:
    return [line for line in server.requests(since) if fragment in line]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    row = con.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def duck(fs=None, **config) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={**NO_EXTENSIONS, **config})
    if fs is not None:
        con.register_filesystem(fs)
    return con


# --- the fixture itself -----------------------------------------------------------------


def test_fixture_reaches_moto_over_http(s3: S3Bucket, s3_server: MotoServer) -> None:
    from moto.core.models import botocore_stubber

    assert s3.endpoint_url.startswith("http://127.0.0.1:")
    assert not botocore_stubber.enabled  # moto's in-process patching is not in play
    mark = s3_server.mark()
    s3.fs.pipe(s3.path("hello.txt"), b"hello")
    assert requests_for(s3_server, mark, f"PUT /{s3.name}/hello.txt ")
    assert s3.new_fs().cat(s3.path("hello.txt")) == b"hello"
    left = {k for k in os.environ if k.upper().startswith("AWS_")}
    assert left == set(s3server.SCRUBBED_ENV_SET)  # only what the scrub itself set


def test_buckets_are_per_test_and_cleaned_up(s3_server: MotoServer) -> None:
    first, second = s3server.create_bucket(s3_server), s3server.create_bucket(s3_server)
    assert first.name != second.name
    first.fs.pipe(first.path("k"), b"1")
    first.cleanup()
    second.cleanup()
    assert not first.new_fs().exists(first.name)


def test_unavailable_server_skips_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(s3server.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no loopback"):
        s3server.unavailable("no loopback")
    monkeypatch.setenv(s3server.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="TABLEDAG_REQUIRE_SERVICES=1"):
        s3server.unavailable("no loopback")


def test_missing_moto_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "moto.server", None)  # as if moto[server] were missing
    with pytest.raises(s3server.S3ServerUnavailable, match=r"pip install -e '\.\[test\]'"):
        s3server.start_moto_server()


def test_start_failure_is_reported_not_hung() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.perf_counter()
        with pytest.raises(s3server.S3ServerUnavailable, match="could not listen"):
            s3server.start_moto_server(port=port, timeout=10)
    assert time.perf_counter() - started < 10


# --- a. writes a reader sees whole or not at all ------------------------------------------


def test_pipe_is_a_single_put(s3: S3Bucket, s3_server: MotoServer) -> None:
    manifest = json.dumps({"generation": 1, "tables": {"t": "t__abc.parquet"}}).encode()
    mark = s3_server.mark()
    s3.fs.pipe(s3.path("stage/manifest.json"), manifest)
    lines = s3_server.requests(mark)
    assert len(requests_for(s3_server, mark, f"PUT /{s3.name}/stage/manifest.json ")) == 1
    assert not [line for line in lines if "uploads" in line or "partNumber" in line]
    assert s3.new_fs().cat(s3.path("stage/manifest.json")) == manifest


def test_open_wb_uploads_on_close(s3: S3Bucket) -> None:
    reader = s3.new_fs(use_listings_cache=False)
    path = s3.path("stage/manifest.json")
    with s3.fs.open(path, "wb") as f:
        f.write(b'{"generation": ')
        f.flush()  # below the block size: buffered, nothing sent
        assert not reader.exists(path)
        f.write(b"1}")
    assert reader.cat(path) == b'{"generation": 1}'


def test_multipart_object_appears_only_when_complete(s3: S3Bucket, s3_server: MotoServer) -> None:
    reader = s3.new_fs(use_listings_cache=False)
    path = s3.path("stage/big.bin")
    old, new = b"o" * 100, os.urandom(6 * MIB)
    s3.fs.pipe(path, old)
    mark = s3_server.mark()
    with s3.fs.open(path, "wb", block_size=5 * MIB) as f:
        f.write(new[: 5 * MIB + 1])
        f.flush()  # one part uploaded
        assert requests_for(s3_server, mark, "partNumber=1")
        assert reader.cat(path) == old  # the old object, whole, while the upload runs
        f.write(new[5 * MIB + 1 :])
    assert requests_for(s3_server, mark, "uploadId=")
    assert reader.cat(path) == new


def test_copy_is_server_side_and_mv_is_copy_then_delete(
    s3: S3Bucket, s3_server: MotoServer
) -> None:
    reader = s3.new_fs(use_listings_cache=False)
    s3.fs.pipe(s3.path("tmp/m.json"), b"whole")
    mark = s3_server.mark()
    s3.fs.copy(s3.path("tmp/m.json"), s3.path("a/m.json"))
    assert not requests_for(s3_server, mark, f"GET /{s3.name}/tmp/m.json")  # no download
    assert requests_for(s3_server, mark, f"PUT /{s3.name}/a/m.json ")  # CopyObject
    assert reader.cat(s3.path("a/m.json")) == b"whole"
    mark = s3_server.mark()
    s3.fs.mv(s3.path("tmp/m.json"), s3.path("b/m.json"))
    writes = [line for line in s3_server.requests(mark) if '"PUT' in line or '"POST' in line]
    assert len(writes) == 2  # CopyObject, then DeleteObjects: two requests, not one rename
    assert f"PUT /{s3.name}/b/m.json " in writes[0] and "?delete " in writes[1]
    assert reader.cat(s3.path("b/m.json")) == b"whole"
    assert not reader.exists(s3.path("tmp/m.json"))


def test_local_open_wb_is_visible_half_written_so_replace(tmp_path: Path) -> None:
    import fsspec

    local = fsspec.filesystem("file")
    path = tmp_path / "stage" / "manifest.json"
    path.parent.mkdir()
    with local.open(str(path), "wb") as f:
        f.write(b'{"generation": ')
        f.flush()
        assert path.read_bytes() == b'{"generation": '  # a reader now sees half a manifest
        f.write(b"1}")
    # the local recipe: a temporary name in the same directory, then os.replace
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(b'{"generation": 2}')
    os.replace(temporary, path)
    assert path.read_bytes() == b'{"generation": 2}'
    assert [p.name for p in path.parent.iterdir()] == ["manifest.json"]


# --- b. pyarrow -------------------------------------------------------------------------


def test_pyarrow_takes_the_fsspec_filesystem_directly(s3: S3Bucket) -> None:
    table = small_table()
    paths = [s3.path("t/p0.parquet"), s3.path("t/p1.parquet")]
    for path in paths:
        pq.write_table(table, path, filesystem=s3.fs)
    both = pq.read_table(paths, filesystem=s3.fs)
    assert both.num_rows == 6
    assert pq.read_table(s3.url("t/p0.parquet"), filesystem=s3.fs).equals(table)  # s3:// too
    assert pq.read_table(s3.path("t"), filesystem=s3.fs).num_rows == 6  # a directory
    wrapped = pafs.PyFileSystem(pafs.FSSpecHandler(s3.fs))  # what pyarrow does internally
    assert pq.read_table(paths, filesystem=wrapped).equals(both)
    import pyarrow.dataset as ds

    assert ds.dataset(paths, filesystem=s3.fs, format="parquet").to_table().num_rows == 6


def mixed_table(rows: int) -> pa.Table:
    import numpy as np

    rng = np.random.default_rng(15)
    return pa.table(
        {
            "i": rng.integers(0, 10**9, rows),
            "f": rng.random(rows),
            "s": pa.array(np.char.add("s", rng.integers(0, 10**6, rows).astype(str))),
            "ts": rng.integers(0, 10**15, rows).astype("datetime64[us]"),
        }
    )


@pytest.mark.slow
def test_pyarrow_timing_fsspec_wrapped_native(s3: S3Bucket) -> None:
    """Prints the times (no assertion on them): 1M mixed rows, write then read."""
    table = mixed_table(1_000_000)
    native = pafs.S3FileSystem(
        access_key=s3.access_key_id,
        secret_key=s3.secret_access_key,
        endpoint_override=s3.endpoint_url,
        scheme="http",
        region=s3.region,
    )
    filesystems = {
        "fsspec s3fs directly": s3.fs,
        "PyFileSystem(FSSpecHandler(s3fs))": pafs.PyFileSystem(pafs.FSSpecHandler(s3.fs)),
        "pyarrow.fs.S3FileSystem (native)": native,
    }
    for number, filesystem in enumerate(filesystems.values()):  # warm up each client
        pq.write_table(
            small_table(), s3.path(f"timing/warm{number}.parquet"), filesystem=filesystem
        )
        pq.read_table(s3.path(f"timing/warm{number}.parquet"), filesystem=filesystem)
    print()
    for number, (label, filesystem) in enumerate(filesystems.items()):
        path = s3.path(f"timing/t{number}.parquet")
        started = time.perf_counter()
        pq.write_table(table, path, filesystem=filesystem)
        written = time.perf_counter()
        back = pq.read_table(path, filesystem=filesystem)
        done = time.perf_counter()
        assert back.num_rows == table.num_rows
        print(f"{label:36} write {written - started:6.2f} s  read {done - written:6.2f} s")
    options = s3.polars_storage_options
    frame = pl.from_arrow(table)
    started = time.perf_counter()
    frame.write_parquet(s3.url("timing/polars.parquet"), storage_options=options)
    written = time.perf_counter()
    assert pl.read_parquet(s3.url("timing/polars.parquet"), storage_options=options).height
    done = time.perf_counter()
    print(
        f"{'polars object_store':36} write {written - started:6.2f} s  read {done - written:6.2f} s"
    )


# --- c. polars ----------------------------------------------------------------------------


def test_polars_storage_options_read_scan_write(s3: S3Bucket) -> None:
    options = s3.polars_storage_options
    frame = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "ü é"]})
    frame.write_parquet(s3.url("pl/p0.parquet"), storage_options=options)
    pl.LazyFrame(frame).sink_parquet(s3.url("pl/p1.parquet"), storage_options=options)
    assert sorted(s3.new_fs().ls(s3.path("pl"))) == [
        s3.path("pl/p0.parquet"),
        s3.path("pl/p1.parquet"),
    ]
    assert pl.read_parquet(s3.url("pl/p0.parquet"), storage_options=options).equals(frame)
    files = [s3.url("pl/p0.parquet"), s3.url("pl/p1.parquet")]
    scan = pl.scan_parquet(files, storage_options=options)
    assert scan.select(pl.len()).collect().item() == 6
    assert pl.scan_parquet(s3.url("pl/*.parquet"), storage_options=options).collect().height == 6
    # enough for moto: endpoint, key, secret (an http:// endpoint needs no aws_allow_http;
    # real S3 needs the region too)
    minimum = {
        k: options[k] for k in ("aws_endpoint_url", "aws_access_key_id", "aws_secret_access_key")
    }
    assert pl.read_parquet(s3.url("pl/p0.parquet"), storage_options=minimum).height == 3
    # unknown keys are not rejected: a misspelt key is silently ignored
    bogus = {**options, "aws_endpoint_urll": "http://127.0.0.1:9"}
    assert pl.read_parquet(s3.url("pl/p0.parquet"), storage_options=bogus).height == 3


def test_polars_through_s3fs_file_objects(s3: S3Bucket) -> None:
    pq.write_table(small_table(), s3.path("pl/t.parquet"), filesystem=s3.fs)
    with s3.fs.open(s3.path("pl/t.parquet"), "rb") as f:
        assert pl.read_parquet(f).height == 3
    with s3.fs.open(s3.path("pl/t.parquet"), "rb") as f:
        assert pl.scan_parquet(f).collect().height == 3
    with s3.fs.open(s3.path("pl/w.parquet"), "wb") as f:
        pl.DataFrame({"a": [1]}).write_parquet(f)
    assert pq.read_table(s3.path("pl/w.parquet"), filesystem=s3.fs).num_rows == 1


# --- d. DuckDB ----------------------------------------------------------------------------


def test_duckdb_registered_s3fs_reads_views_and_copies(s3: S3Bucket) -> None:
    pq.write_table(small_table(), s3.path("d/x.parquet"), filesystem=s3.fs)
    con = duck(s3.fs)
    assert con.list_filesystems() == ["s3"]  # s3fs' protocols are ("s3", "s3a")
    x = sql_literal(s3.url("d/x.parquet"))
    assert scalar(con, f"SELECT count(*) FROM read_parquet({x})") == 3
    s3a = sql_literal("s3a://" + s3.path("d/x.parquet"))
    assert scalar(con, f"SELECT count(*) FROM read_parquet({s3a})") == 3
    con.execute(f"CREATE VIEW v AS SELECT * FROM read_parquet({x})")
    y = sql_literal(s3.url("d/y.parquet"))
    con.execute(f"COPY (SELECT a * 10 AS a, b FROM v) TO {y} (FORMAT parquet)")
    copied = pq.read_table(s3.path("d/y.parquet"), filesystem=s3.new_fs())
    assert copied.column("a").to_pylist() == [10, 20, 30]
    both = f"read_parquet([{x}, {y}])"
    assert scalar(con, f"SELECT count(*) FROM {both}") == 6
    glob = sql_literal(s3.url("d/*.parquet"))
    assert scalar(con, f"SELECT count(*) FROM read_parquet({glob})") == 6
    z = s3.url("d/z.parquet")
    con.execute("COPY (SELECT 1 AS a) TO ? (FORMAT parquet)", [z])  # COPY TO takes a parameter
    assert scalar(con, "SELECT count(*) FROM read_parquet(?)", [z]) == 1
    with pytest.raises(duckdb.Error, match="can't be prepared"):
        con.execute("CREATE VIEW w AS SELECT * FROM read_parquet(?)", [z])  # a view does not
    loaded = con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded OR installed")
    assert "httpfs" not in {name for (name,) in loaded.fetchall()}


def test_duckdb_without_registered_fs_wants_httpfs(s3: S3Bucket, tmp_path: Path) -> None:
    pq.write_table(small_table(), s3.path("d/x.parquet"), filesystem=s3.fs)
    x = sql_literal(s3.url("d/x.parquet"))
    with pytest.raises(duckdb.Error, match="requires the extension httpfs"):
        duck().execute(f"SELECT * FROM read_parquet({x})")
    # with DuckDB's defaults it would install httpfs at run time; a local, empty repository
    # stands in for the real one so that the attempt is seen without any download
    repository, extensions = tmp_path / "repository", tmp_path / "extensions"
    repository.mkdir()
    trap = {
        "custom_extension_repository": str(repository),
        "extension_directory": str(extensions),
    }
    defaults = duckdb.connect(config=trap)
    assert scalar(defaults, "SELECT current_setting('autoinstall_known_extensions')") is True
    with pytest.raises(duckdb.Error, match="automatically install the required extension 'httpfs"):
        defaults.execute(f"SELECT * FROM read_parquet({x})")
    # registered first, the fsspec filesystem answers s3:// and httpfs is never asked for
    registered = duckdb.connect(config={**trap, "extension_directory": str(tmp_path / "e2")})
    registered.register_filesystem(s3.fs)
    assert scalar(registered, f"SELECT count(*) FROM read_parquet({x})") == 3
    assert not (tmp_path / "e2").exists()
    # belt and braces: httpfs' own filesystems can be disabled (and cannot be re-enabled)
    registered.execute("SET disabled_filesystems = 'S3FileSystem,HTTPFileSystem'")
    assert scalar(registered, f"SELECT count(*) FROM read_parquet({x})") == 3


def test_duckdb_registration_is_per_database(s3: S3Bucket, tmp_path: Path) -> None:
    database = str(tmp_path / "catalogue.duckdb")
    con = duckdb.connect(database, config=NO_EXTENSIONS)
    con.register_filesystem(s3.fs)
    with pytest.raises(duckdb.Error, match="already been registered"):
        con.register_filesystem(s3.fs)
    assert con.cursor().list_filesystems() == ["s3"]
    second = duckdb.connect(database, config=NO_EXTENSIONS)  # same database instance
    assert second.list_filesystems() == ["s3"]
    second.close()
    with pytest.raises(duckdb.ConnectionException, match="different configuration"):
        duckdb.connect(database)
    con.close()


def test_duckdb_view_over_s3_persists_and_needs_the_fs_again(s3: S3Bucket, tmp_path: Path) -> None:
    pq.write_table(small_table(), s3.path("d/x.parquet"), filesystem=s3.fs)
    database = str(tmp_path / "catalogue.duckdb")
    con = duckdb.connect(database, config=NO_EXTENSIONS)
    con.register_filesystem(s3.fs)
    con.execute("CREATE SCHEMA stage")
    con.execute(
        f"CREATE VIEW stage.t AS SELECT * FROM read_parquet({sql_literal(s3.url('d/x.parquet'))})"
    )
    con.close()

    con = duckdb.connect(database, config=NO_EXTENSIONS)
    assert con.list_filesystems() == []
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    assert views == [("t",)]  # opening and listing work without the filesystem
    with pytest.raises(duckdb.Error, match="requires the extension httpfs"):
        con.execute("SELECT * FROM stage.t").fetchall()
    con.register_filesystem(s3.new_fs())
    assert scalar(con, "SELECT count(*) FROM stage.t") == 3
    con.close()


@pytest.mark.parametrize(
    "relative",
    ["with space/ü é.parquet", "it's/x.parquet", "pct%20 #hash/x.parquet", "日本/表.parquet"],
)
def test_duckdb_local_paths_quoted(tmp_path: Path, relative: str) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    con = duck()
    con.execute(f"COPY (SELECT 1 AS a) TO {sql_literal(str(path))} (FORMAT parquet)")
    assert path.is_file()
    assert scalar(con, f"SELECT count(*) FROM read_parquet({sql_literal(str(path))})") == 1
    assert scalar(con, f"SELECT count(*) FROM read_parquet([{sql_literal(str(path))}])") == 1
    assert scalar(con, "SELECT count(*) FROM read_parquet(?)", [str(path)]) == 1
    con.execute(f"CREATE VIEW v AS SELECT * FROM read_parquet({sql_literal(str(path))})")
    assert scalar(con, "SELECT count(*) FROM v") == 1
    assert pl.read_parquet(path).height == 1
    assert pq.read_table(str(path)).num_rows == 1


@pytest.mark.parametrize(("name", "sibling"), [("b[1]", "b1"), ("s*", "sX"), ("q?", "qZ")])
def test_duckdb_glob_characters_in_paths_are_globs(tmp_path: Path, name: str, sibling: str) -> None:
    con = duck()
    for directory, value in [(name, 1), (sibling, 2)]:
        (tmp_path / directory).mkdir()
        target = sql_literal(str(tmp_path / directory / "x.parquet"))
        con.execute(f"COPY (SELECT {value} AS a) TO {target} (FORMAT parquet)")  # literal
    path = sql_literal(str(tmp_path / name / "x.parquet"))
    values = scalar(con, f"SELECT list(a ORDER BY a) FROM read_parquet([{path}])")
    assert values != [1]  # read_parquet expanded the name: such names must be refused


def test_duckdb_s3_keys_with_spaces_and_unicode(s3: S3Bucket) -> None:
    con = duck(s3.fs)
    for key in ["with space/ü é.parquet", "it's/x.parquet", "plus+pct%20/x.parquet"]:
        url = s3.url("names", key)
        con.execute(f"COPY (SELECT 1 AS a) TO {sql_literal(url)} (FORMAT parquet)")
        assert s3.new_fs().exists(s3.path("names", key))
        assert scalar(con, f"SELECT count(*) FROM read_parquet({sql_literal(url)})") == 1
        assert pl.read_parquet(url, storage_options=s3.polars_storage_options).height == 1
        assert pq.read_table(s3.path("names", key), filesystem=s3.fs).num_rows == 1


# --- e. credentials -----------------------------------------------------------------------


def test_explicit_arguments_win_over_the_environment(
    s3: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    pq.write_table(small_table(), s3.path("e/x.parquet"), filesystem=s3.fs)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # refused at once if used
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    fs = s3.new_fs()
    assert fs.cat(s3.path("e/x.parquet"))[:4] == b"PAR1"
    assert fs.s3.meta.region_name == s3.region
    assert fs.s3.meta.endpoint_url == s3.endpoint_url
    options = {**s3.polars_storage_options, "max_retries": 0}
    assert pl.read_parquet(s3.url("e/x.parquet"), storage_options=options).height == 3
    # pyarrow's own S3FileSystem does not read AWS_ENDPOINT_URL: without endpoint_override it
    # would go to AWS itself (checked without a request: the arguments it would use)
    native = pafs.S3FileSystem(access_key="k", secret_key="s", region=s3.region)
    assert native.__reduce__()[1][0]["endpoint_override"] == ""
    # a profile that does not exist breaks even a client with explicit arguments
    monkeypatch.setenv("AWS_PROFILE", "tabledag-no-such-profile")
    with pytest.raises(Exception, match="could not be found"):
        s3.new_fs().ls(s3.name)


ENV_PROBE = textwrap.dedent(
    """
    import json, sys
    path = sys.argv[1]
    out = {}
    try:
        import s3fs
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        out["s3fs"] = len(fs.cat(path))
        out["s3fs_region"] = fs.s3.meta.region_name
        out["s3fs_endpoint"] = fs.s3.meta.endpoint_url
    except Exception as error:
        out["s3fs"] = f"{type(error).__name__}: {error}"
    try:
        import polars as pl
        out["polars"] = pl.read_parquet("s3://" + path).height
    except Exception as error:
        out["polars"] = f"{type(error).__name__}: {error}"
    try:
        import duckdb
        con = duckdb.connect(config={"autoinstall_known_extensions": False})
        con.register_filesystem(s3fs.S3FileSystem(skip_instance_cache=True))
        out["duckdb"] = con.execute(f"SELECT count(*) FROM read_parquet('s3://{path}')").fetchone()[0]
    except Exception as error:
        out["duckdb"] = f"{type(error).__name__}: {error}"
    print(json.dumps(out))
    """
)


def run_env_probe(s3: S3Bucket, path: str, env: dict[str, str]) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update({k: v for k, v in os.environ.items() if k in s3server.SCRUBBED_ENV_SET})
    result = subprocess.run(
        [sys.executable, "-c", ENV_PROBE, path],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_environment_variables_alone(s3: S3Bucket) -> None:
    pq.write_table(small_table(), s3.path("e/x.parquet"), filesystem=s3.fs)
    path = s3.path("e/x.parquet")
    keys = {k: s3.env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}

    env = {**keys, "AWS_ENDPOINT_URL": s3.endpoint_url, "AWS_DEFAULT_REGION": s3.region}
    got = run_env_probe(s3, path, env)
    assert got["s3fs_endpoint"] == s3.endpoint_url and got["s3fs_region"] == s3.region
    assert isinstance(got["s3fs"], int) and got["polars"] == got["duckdb"] == 3

    # the S3-only endpoint variable works too; botocore ignores AWS_REGION (it reads
    # AWS_DEFAULT_REGION) and falls back to us-east-1, polars reads AWS_REGION first
    env = {**keys, "AWS_ENDPOINT_URL_S3": s3.endpoint_url, "AWS_REGION": s3.region}
    got = run_env_probe(s3, path, env)
    assert got["s3fs_endpoint"] == s3.endpoint_url and got["s3fs_region"] == "us-east-1"
    assert isinstance(got["s3fs"], int) and got["polars"] == got["duckdb"] == 3


def iam_access_key(s3: S3Bucket) -> tuple[str, str]:
    """A user with full rights on moto's IAM, and its key (made while auth is off)."""
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=s3.endpoint_url,
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key,
        region_name=s3.region,
    )
    user = f"u{s3.name[-12:]}"
    iam.create_user(UserName=user)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def exception_text(error: BaseException) -> str:
    parts = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [repr(current), str(current)]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def test_wrong_credentials_errors_show_no_secret(s3: S3Bucket, s3_server: MotoServer) -> None:
    pq.write_table(small_table(), s3.path("e/x.parquet"), filesystem=s3.fs)
    key_id, secret = iam_access_key(s3)
    wrong = SECRET_ACCESS_KEY + "-wrong"
    with s3_server.authenticated():
        good = s3.new_fs(key=key_id, secret=secret)
        assert good.cat(s3.path("e/x.parquet"))[:4] == b"PAR1"
        seen: dict[str, str] = {}
        clients = {
            "wrong secret": s3.new_fs(key=key_id, secret=wrong),
            "unknown key": s3.new_fs(secret=wrong),
        }
        for label, fs in clients.items():
            with pytest.raises(PermissionError) as head:
                fs.cat(s3.path("e/x.parquet"))  # HEAD: no body, so only "Forbidden"
            with pytest.raises(PermissionError) as listing:
                fs.ls(s3.path("e"))
            with pytest.raises(duckdb.Error) as ducked:
                duck(fs).execute(
                    f"SELECT * FROM read_parquet('{s3.url('e/x.parquet')}')"
                ).fetchall()
            with pytest.raises(PermissionError) as arrowed:
                pq.read_table(s3.path("e/x.parquet"), filesystem=fs)
            for what, info in [
                ("cat", head),
                ("ls", listing),
                ("duckdb", ducked),
                ("pyarrow", arrowed),
            ]:
                text = exception_text(info.value)
                assert wrong not in text and secret not in text
                seen[f"{label} {what}"] = str(info.value).strip()
        assert seen["wrong secret cat"] == "Forbidden"
        assert "PermissionError: Forbidden" in seen["wrong secret duckdb"]  # a traceback, then SQL
        assert "LINE 1: SELECT" in seen["wrong secret duckdb"]  # DuckDB echoes the statement
        assert "signature we calculated does not match" in seen["wrong secret ls"]
        assert "Access Key Id you provided does not exist" in seen["unknown key ls"]
        assert s3.endpoint_url not in "".join(seen.values())  # s3fs names no endpoint

        options = {
            **s3.polars_storage_options,
            "aws_access_key_id": key_id,
            "aws_secret_access_key": wrong,
        }
        with pytest.raises(Exception) as polars_error:
            pl.read_parquet(s3.url("e/x.parquet"), storage_options={**options, "max_retries": 0})
        text = exception_text(polars_error.value)
        assert wrong not in text
        assert s3.endpoint_url in text and "SignatureDoesNotMatch" in text  # URL + XML body
    for label, message in sorted(seen.items()):
        lines = message.splitlines()
        print(f"{label:22} {lines[0][:70]!r}{' ... ' + repr(lines[-1]) if len(lines) > 1 else ''}")


def test_where_the_secret_does_show(s3: S3Bucket) -> None:
    fs = s3.fs
    assert SECRET_ACCESS_KEY not in repr(fs) and SECRET_ACCESS_KEY not in str(fs)
    assert fs.storage_options["secret"] == SECRET_ACCESS_KEY  # never log these:
    assert SECRET_ACCESS_KEY in fs.to_json()
    assert SECRET_ACCESS_KEY.encode() in pickle.dumps(fs)
    native = pafs.S3FileSystem(access_key="k", secret_key=SECRET_ACCESS_KEY, region=s3.region)
    assert SECRET_ACCESS_KEY not in repr(native)
    assert SECRET_ACCESS_KEY.encode() in pickle.dumps(native)
    con = duck(fs)
    settings = scalar(con, "SELECT string_agg(value, ' ') FROM duckdb_settings()")
    assert isinstance(settings, str) and SECRET_ACCESS_KEY not in settings
    assert con.list_filesystems() == ["s3"]


# --- f. listings --------------------------------------------------------------------------


def test_listing_pages_through_many_objects(
    s3: S3Bucket, s3_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_S3_DEFAULT_MAX_KEYS", "10")  # moto pages after 10 keys
    s3.fs.pipe({s3.path(f"many/p{i:03d}.parquet"): b"x" for i in range(35)})
    s3.fs.pipe({s3.path(f"many/sub/q{i}.parquet"): b"x" for i in range(3)})
    mark = s3_server.mark()
    fs = s3.new_fs()
    listed = fs.ls(s3.path("many"))
    assert len(listed) == 36  # 35 files and the "directory" sub
    assert len(requests_for(s3_server, mark, "list-type=2")) >= 4
    assert len(fs.find(s3.path("many"))) == 38
    assert len(fs.glob(s3.path("many/p01*.parquet"))) == 10


def test_listings_cache_goes_stale(s3: S3Bucket) -> None:
    fs, other = s3.new_fs(), s3.new_fs()  # two processes, as far as caches go
    prefix = s3.path("stage")
    fs.pipe(s3.path("stage/a.parquet"), b"a")
    assert fs.ls(prefix) == [s3.path("stage/a.parquet")]
    other.pipe(s3.path("stage/b.parquet"), b"b")
    assert fs.ls(prefix) == [s3.path("stage/a.parquet")]  # stale
    assert not fs.exists(s3.path("stage/b.parquet"))  # stale
    assert fs.glob(s3.path("stage/b*")) == []  # stale
    with pytest.raises(FileNotFoundError):
        fs.cat(s3.path("stage/b.parquet"))  # even a read: info comes from the listing
    assert len(fs.find(prefix)) == 2  # find lists afresh
    assert len(fs.ls(prefix, refresh=True)) == 2
    other.rm(s3.path("stage/a.parquet"))
    assert fs.exists(s3.path("stage/a.parquet"))  # stale the other way
    fs.invalidate_cache(prefix)
    assert not fs.exists(s3.path("stage/a.parquet"))
    # an object overwritten elsewhere: the cached ETag makes open() refuse, not read mixed
    fs.ls(prefix, refresh=True)
    other.pipe(s3.path("stage/b.parquet"), b"bbbbbb")
    with pytest.raises(OSError, match="no longer exists"), fs.open(s3.path("stage/b.parquet")) as f:
        f.read()
    fs.invalidate_cache(prefix)
    with fs.open(s3.path("stage/b.parquet")) as f:
        assert f.read() == b"bbbbbb"


def test_stale_listing_reaches_duckdb_and_pyarrow(s3: S3Bucket) -> None:
    fs, other = s3.new_fs(), s3.new_fs()
    pq.write_table(small_table(), s3.path("stage/a.parquet"), filesystem=fs)
    fs.ls(s3.path("stage"))  # cached: only a.parquet
    pq.write_table(small_table(), s3.path("stage/b.parquet"), filesystem=other)
    con = duck(fs)
    b = sql_literal(s3.url("stage/b.parquet"))
    with pytest.raises(duckdb.IOException, match="No files found that match the pattern"):
        con.execute(f"SELECT count(*) FROM read_parquet({b})").fetchall()  # it exists, though
    stage = sql_literal(s3.url("stage/*.parquet"))
    assert scalar(con, f"SELECT count(*) FROM read_parquet({stage})") == 3  # a.parquet only
    with pytest.raises(FileNotFoundError):
        pq.read_table(s3.path("stage/b.parquet"), filesystem=fs)
    fs.invalidate_cache(s3.path("stage"))
    assert scalar(con, f"SELECT count(*) FROM read_parquet({b})") == 3
    assert scalar(con, f"SELECT count(*) FROM read_parquet({stage})") == 6
    # with the listings cache off, every open asks the server (one HEAD per file)
    uncached = duck(s3.new_fs(use_listings_cache=False))
    pq.write_table(small_table(), s3.path("stage/c.parquet"), filesystem=other)
    assert scalar(uncached, f"SELECT count(*) FROM read_parquet({stage})") == 9


def test_no_listings_cache_and_instance_cache(s3: S3Bucket) -> None:
    import s3fs

    fresh, other = s3.new_fs(use_listings_cache=False), s3.new_fs()
    fresh.ls(s3.name)
    other.pipe(s3.path("new.parquet"), b"n")
    assert fresh.exists(s3.path("new.parquet")) and fresh.ls(s3.name) == [s3.path("new.parquet")]
    assert not fresh.dircache
    # fsspec hands back one instance (one cache) for equal arguments, even across stores
    assert s3fs.S3FileSystem(**s3.storage_options) is s3fs.S3FileSystem(**s3.storage_options)
    assert s3.new_fs() is not s3.new_fs()
