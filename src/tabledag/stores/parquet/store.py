"""ParquetTableStore: tables as parquet files under `parquet_base_path`, stages as DuckDB views.

```
<parquet_base_path>/<instance_id>/<stage>/<table>__<key16>.parquet   immutable, named by key
<parquet_base_path>/<instance_id>/<stage>/_manifest.json             the committed generation
catalogue (DuckDB; `url`, in memory by default)                       views + metadata records
```

It is the SQL store's lifecycle (`SQLSession`: keys, cache hits, atomic commits, cleanup order)
with the DuckDB dialect, reused, and `ParquetFiles` for where data lives. A commit re-points the
stage's views in one DuckDB transaction, then writes the stage's manifest; cleanup deletes
files neither generation names. The files are the truth: a new catalogue (another process,
another machine, a fresh DuckDB file) attaches by `sync()`, which happens on first use and at
the start of every run, and gets the committed stages and their cache hits from the manifests.

Runs that share a local `parquet_base_path` take turns through a lock file in it; on object
stores there is no such lock: one writing run per instance at a time is the caller's business.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ...errors import ConfigError, StoreConnectionError
from ...locks import DEFAULT_TIMEOUT, FileLocks, NoLocks
from ..base import Capability
from ..sql.catalogue import Catalogue, CatalogueStore
from ..sql.dialects.duckdb import DuckDB, DuckDBConnection
from ..sql.session import SQLSession
from .files import ParquetFiles
from .location import Location, location
from .sync import sync

if TYPE_CHECKING:
    from ...locks import Locks


class ParquetTableStore(CatalogueStore):
    """Parquet files on local disk or object storage, with a DuckDB catalogue of views.

    Args:
        url: the DuckDB catalogue, e.g. `duckdb:///catalogue/{instance_id}.duckdb`; default
            in memory (rebuilt from the manifests in every process).
        parquet_base_path: a local directory or an fsspec URL (`s3://bucket/prefix`).
        instance_id, schema_prefix, schema_suffix, print_sql: as for `SQLTableStore`.
        s3_endpoint_url, s3_url_style ("path" or "vhost"), s3_region, s3_access_key_id,
            s3_secret_access_key: S3 settings (default: the AWS environment variables).
        lock_timeout: seconds to wait for another run on the same local path (default 600).
    """

    capabilities = frozenset({Capability.SQL, Capability.IBIS, Capability.ARROW_FILES})

    def __init__(
        self,
        url: str = "duckdb:///:memory:",
        *,
        parquet_base_path: str,
        instance_id: str = "pipeline",
        schema_prefix: str = "",
        schema_suffix: str = "",
        print_sql: bool = False,
        s3_endpoint_url: str | None = None,
        s3_url_style: str | None = None,
        s3_region: str | None = None,
        s3_access_key_id: str | None = None,
        s3_secret_access_key: str | None = None,
        lock_timeout: float | None = None,
        create_database_if_not_exists: bool = False,
    ) -> None:
        # (pipedag's; the DuckDB file of the catalogue is created when first opened anyway)
        del create_database_if_not_exists
        s3 = {
            "s3_endpoint_url": s3_endpoint_url,
            "s3_url_style": s3_url_style,
            "s3_region": s3_region,
            "s3_access_key_id": s3_access_key_id,
            "s3_secret_access_key": s3_secret_access_key,
        }
        self._init_args = {
            "url": url,
            "parquet_base_path": parquet_base_path,
            "instance_id": instance_id,
            "schema_prefix": schema_prefix,
            "schema_suffix": schema_suffix,
            "print_sql": print_sql,
            "lock_timeout": lock_timeout,
            **s3,
        }
        self.instance_id = instance_id
        self.url = url.replace("{instance_id}", instance_id)
        if not self.url.lower().startswith("duckdb:"):
            raise ConfigError(
                f"ParquetTableStore keeps its catalogue in DuckDB; url must be duckdb:///..., "
                f"got {self.url.split(':', 1)[0]}:..."
            )
        self.catalogue = Catalogue(
            DuckDB(self.url),
            schema_prefix.replace("{instance_id}", instance_id),
            schema_suffix.replace("{instance_id}", instance_id),
            print_sql,
        )
        self.location: Location = location(
            parquet_base_path.replace("{instance_id}", instance_id), instance_id, s3
        )
        self.lock_timeout = DEFAULT_TIMEOUT if lock_timeout is None else float(lock_timeout)
        self._fs: Any = None
        self._synced = False
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"ParquetTableStore({self.location.url()!r}, catalogue={self.url!r})"

    # -- files ----------------------------------------------------------------------------------

    @property
    def fs(self) -> Any:
        if self._fs is None:
            fs = self.location.filesystem()
            if not self.location.is_local:
                bucket = self.location.root.split("/", 1)[0]
                if not fs.exists(bucket):
                    raise StoreConnectionError(
                        f"the bucket {bucket!r} of parquet_base_path does not exist (or cannot "
                        "be reached); create it first"
                    )
            self._fs = fs
        return self._fs

    # -- sessions and locks ---------------------------------------------------------------------

    @property
    def one_process_reason(self) -> str:
        return "one process per run writes its DuckDB catalogue and manifests"

    def open_session(self) -> SQLSession:
        connection = self.dialect.connect()
        if not self.location.is_local:
            assert isinstance(connection, DuckDBConnection)
            _use_filesystem(connection.con, self.fs)
        files = ParquetFiles(self.location, self.fs)
        session = SQLSession(self, self.catalogue, files, connection)
        with self._guard:
            if not self._synced:  # first use: attach to what the files say
                try:
                    session.setup(NoLocks())
                except BaseException:
                    session.close()
                    raise
                self._synced = True
        return session

    def locks(self, timeout: float | None = None) -> Locks:
        timeout = self.lock_timeout if timeout is None else timeout
        if self.location.is_local:
            self.fs.makedirs(self.location.root, exist_ok=True)
            return FileLocks(self.location.path(".tabledag.lock"), timeout)
        return self.dialect.locks((self.instance_id,), timeout)

    def sync(self) -> list[str]:
        """Adopt what other processes or machines committed (their manifests are newer than
        this catalogue's records); the stages adopted."""
        with self.session() as session:  # a store's first session adopts as it opens
            assert isinstance(session, SQLSession)
            files = session.physical
            assert isinstance(files, ParquetFiles)
            adopted = files.adopted if files.synced else sync(session, files)
            return sorted(adopted)


def _use_filesystem(con: Any, fs: Any) -> None:
    """Let DuckDB reach object storage through `fs` (registered once per database, shared by
    its cursors), and never through an extension it would try to download."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    if not set(protocols) & set(con.list_filesystems()):
        con.register_filesystem(fs)
