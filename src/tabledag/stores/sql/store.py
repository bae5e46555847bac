"""SQLTableStore: immutable physical tables named by cache key, and one schema of views per stage.

A task output is written once into `<stage>__data.<name>__<key>` and never changed. The stage
schema holds views onto those tables; a stage commits by re-pointing its views and recording the
metadata atomically (how is the dialect's business: one transaction, or a schema swap). Hence:

- a cache hit copies no data, whatever the table's size;
- a failed or killed run leaves the committed views, and the tables they show, untouched;
- the previous generation's tables are kept; older unreferenced ones are dropped after commit.

The store object holds configuration and its `Catalogue`; `SQLSession` (session.py) does the
work, with the data in the same database (`DatabaseTables`). Everything that differs between
databases comes from the dialect; this module names none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...locks import DEFAULT_TIMEOUT
from ..base import Capability
from ..table_cache import ParquetTableCache, table_cache
from .catalogue import Catalogue, CatalogueStore
from .dialects import dialect_class
from .physical import DatabaseTables

if TYPE_CHECKING:
    from ...locks import Locks
    from .session import SQLSession


class SQLTableStore(CatalogueStore):
    """Tables in a SQL database; stages are schemas of views onto immutable physical tables.

    Args:
        url: database URL, e.g. `duckdb:///pipeline.duckdb` or `postgresql://u@host/db`.
        instance_id: substituted for `{instance_id}` in the URL; names the locks.
        schema_prefix / schema_suffix: wrapped around every schema name this store creates.
        print_sql: log every statement at INFO level (logger `tabledag.store`).
        materialization_details: named option sets for `Table(materialization_details=...)`,
            each extending `__any__`, e.g. `{"__any__": {}, "fast": {"unlogged": True}}`; the
            options a dialect understands are its `materialization_keys` (Postgres `unlogged`,
            Snowflake `transient`, SQL Server `columnstore`; none on DuckDB).
        default_materialization_details: the set for tables that name none (else `__any__`).
        local_table_cache: keep frame inputs read from the database as parquet files on local
            disk (`tabledag.stores.table_cache.ParquetTableCache`, or a mapping of its
            arguments: `base_path`, `store_input`, `store_output`, `use_stored_input_as_cache`).
        **dialect_args: passed to the dialect (e.g. `create_database_if_not_exists`); an
            argument the dialect does not take is a `ConfigError`.
    """

    capabilities = frozenset({Capability.SQL, Capability.IBIS})

    def __init__(
        self,
        url: str,
        *,
        instance_id: str = "pipeline",
        schema_prefix: str = "",
        schema_suffix: str = "",
        print_sql: bool = False,
        materialization_details: dict[str, Any] | None = None,
        default_materialization_details: str | None = None,
        local_table_cache: ParquetTableCache | dict[str, Any] | None = None,
        **dialect_args: Any,
    ) -> None:
        self._init_args = dict(
            url=url,
            instance_id=instance_id,
            schema_prefix=schema_prefix,
            schema_suffix=schema_suffix,
            print_sql=print_sql,
            materialization_details=materialization_details,
            default_materialization_details=default_materialization_details,
            local_table_cache=local_table_cache,
            **dialect_args,
        )
        self.instance_id = instance_id
        self.url = url.replace("{instance_id}", instance_id)
        dialect = dialect_class(self.url)(self.url, **dialect_args)
        self.catalogue = Catalogue(
            dialect,
            schema_prefix.replace("{instance_id}", instance_id),
            schema_suffix.replace("{instance_id}", instance_id),
            print_sql,
            materialization_details=materialization_details,
            default_materialization_details=default_materialization_details,
            local_table_cache=table_cache(local_table_cache, instance_id, self.url),
        )

    @property
    def shared_by_processes(self) -> bool:
        return self.dialect.one_process is None

    @property
    def one_process_reason(self) -> str:
        return self.dialect.one_process or ""

    def open_session(self) -> SQLSession:
        from .session import SQLSession

        return SQLSession(self, self.catalogue, DatabaseTables(), self.dialect.connect())

    def locks(self, timeout: float | None = None) -> Locks:
        if timeout is None:
            timeout = float(self.dialect.args.get("lock_timeout", DEFAULT_TIMEOUT))
        # Schema prefix and suffix are part of the scope: two instances that share a database
        # under different prefixes are different instances.
        return self.dialect.locks((self.instance_id, self.metadata_schema), timeout)
