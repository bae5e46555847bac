"""SQLTableStore: immutable physical tables named by cache key, and one schema of views per stage.

A task output is written once into `<stage>__data.<name>__<key>` and never changed. The stage
schema holds views onto those tables; a stage commits by re-pointing its views and recording the
metadata atomically (how is the dialect's business: one transaction, or a schema swap). Hence:

- a cache hit copies no data, whatever the table's size;
- a failed or killed run leaves the committed views, and the tables they show, untouched;
- the previous generation's tables are kept; older unreferenced ones are dropped after commit.

The store object holds configuration and what is true for every session (names, column types of
immutable tables, physical-to-logical names); `SQLSession` (session.py) does the work.
Everything that differs between databases comes from `self.dialect`; this module names none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...locks import DEFAULT_TIMEOUT
from ...util import mask_url
from ..base import Capability, TableStore
from . import naming
from .dialects import dialect_class

if TYPE_CHECKING:
    from ...locks import Locks
    from .dialect import Dialect
    from .session import SQLSession


class SQLTableStore(TableStore):
    """Tables in a SQL database; stages are schemas of views onto immutable physical tables.

    Args:
        url: database URL, e.g. `duckdb:///pipeline.duckdb` or `postgresql://u@host/db`.
        instance_id: substituted for `{instance_id}` in the URL; names the locks.
        schema_prefix / schema_suffix: wrapped around every schema name this store creates.
        print_sql: log every statement at INFO level (logger `tabledag.store`).
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
        **dialect_args: Any,
    ) -> None:
        self._init_args = dict(
            url=url,
            instance_id=instance_id,
            schema_prefix=schema_prefix,
            schema_suffix=schema_suffix,
            print_sql=print_sql,
            **dialect_args,
        )
        self.instance_id = instance_id
        self.url = url.replace("{instance_id}", instance_id)
        self.print_sql = print_sql
        self.dialect: Dialect = dialect_class(self.url)(self.url, **dialect_args)
        self.names = naming.Names(
            schema_prefix.replace("{instance_id}", instance_id),
            schema_suffix.replace("{instance_id}", instance_id),
            self.dialect.max_identifier_bytes,
        )
        self.columns: dict[tuple[str, str], str] = {}
        """(schema, physical table) -> columns JSON; physical tables never change, so it holds
        for every session."""
        self.logical: dict[tuple[str, str], tuple[str, str]] = {}
        """(schema, physical table) -> (stage schema, view): for canonical SQL."""
        self.is_setup = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({mask_url(self.url)!r})"

    # -- sessions and locks ---------------------------------------------------------------------

    def open_session(self) -> SQLSession:
        from .session import SQLSession

        return SQLSession(self)

    def locks(self, timeout: float | None = None) -> Locks:
        if timeout is None:
            timeout = float(self.dialect.args.get("lock_timeout", DEFAULT_TIMEOUT))
        # Schema prefix and suffix are part of the scope: two instances that share a database
        # under different prefixes are different instances.
        return self.dialect.locks((self.instance_id, self.metadata_schema), timeout)

    def close(self) -> None:
        self.dialect.close()

    # -- names (also what tests and users read) -------------------------------------------------

    @property
    def schema_prefix(self) -> str:
        return self.names.prefix

    @property
    def schema_suffix(self) -> str:
        return self.names.suffix

    @property
    def metadata_schema(self) -> str:
        return self.names.schema(naming.METADATA)

    def schema_name(self, stage: str) -> str:
        return self.names.schema(stage)

    def data_schema_name(self, stage: str) -> str:
        return self.names.data_schema(stage)

    def canonical_sql(self, sql: Any) -> str:
        """SQL as run (text or tree) with logical table names, pretty-printed."""
        import sqlglot

        from ...cache.canonical_sql import canonical_sql

        tree = sqlglot.parse_one(sql, read=self.dialect.sqlglot) if isinstance(sql, str) else sql
        return canonical_sql(tree, self.dialect.sqlglot, self.logical)
