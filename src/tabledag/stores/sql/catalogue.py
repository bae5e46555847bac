"""The catalogue: a SQL database that holds the stage views and the metadata tables.

Three stores keep their stages in one: `SQLTableStore` (the data is in the same database),
`ParquetTableStore` (the data is in parquet files, the catalogue a DuckDB file) and
`ArrowTableStore` (the data is Arrow in memory, the catalogue an in-memory DuckDB). What they
share is here, by composition: the dialect, the names, and what is true for every session of
one store object (column types and logical names of immutable tables).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...util import mask_url
from ..base import TableStore
from . import naming
from .table_options import DetailsConfig

if TYPE_CHECKING:
    from ..table_cache import ParquetTableCache
    from .dialect import Dialect


class Catalogue:
    """One store's catalogue database: dialect, names and per-process caches."""

    def __init__(
        self,
        dialect: Dialect,
        schema_prefix: str,
        schema_suffix: str,
        print_sql: bool,
        *,
        materialization_details: dict[str, Any] | None = None,
        default_materialization_details: str | None = None,
        local_table_cache: ParquetTableCache | None = None,
    ) -> None:
        self.dialect = dialect
        self.details = DetailsConfig(
            dialect, materialization_details, default_materialization_details
        )
        """The store's `materialization_details` option sets, checked against the dialect."""
        self.local_table_cache = local_table_cache
        self.names = naming.Names(schema_prefix, schema_suffix, dialect.max_identifier_bytes)
        self.print_sql = print_sql
        self.columns: dict[tuple[str, str], str] = {}
        """(schema, physical table) -> columns JSON; physical tables never change, so it holds
        for every session."""
        self.logical: dict[tuple[str, str], tuple[str, str]] = {}
        """(schema, physical table) -> (stage schema, view): for canonical SQL."""
        self.is_setup = False

    @property
    def metadata_schema(self) -> str:
        return self.names.schema(naming.METADATA)

    def canonical_sql(self, sql: Any) -> str:
        """SQL as run (text or tree) with logical table names, pretty-printed."""
        import sqlglot

        from ...cache.canonical_sql import canonical_sql

        dialect = self.dialect.sqlglot
        try:
            tree = sqlglot.parse_one(sql, read=dialect) if isinstance(sql, str) else sql
        except sqlglot.errors.ParseError:
            return str(sql)  # text sqlglot cannot read was run as written: shown as written
        return canonical_sql(tree, dialect, self.logical)


class CatalogueStore(TableStore):
    """A store whose stages are schemas of views in a `Catalogue`."""

    catalogue: Catalogue
    url: str

    @property
    def dialect(self) -> Dialect:
        return self.catalogue.dialect

    def sqlalchemy_engine(self) -> Any | None:
        """Made on first use by the dialect (none for a database in memory, or where
        SQLAlchemy has no dialect for the URL)."""
        if "_sqlalchemy_engine" not in self.__dict__:
            url = getattr(self, "url", "") or ""
            self.__dict__["_sqlalchemy_engine"] = (
                self.dialect.sqlalchemy_engine(url) if url else None
            )
        return self.__dict__["_sqlalchemy_engine"]

    @property
    def print_sql(self) -> bool:
        return self.catalogue.print_sql

    @property
    def schema_prefix(self) -> str:
        return self.catalogue.names.prefix

    @property
    def schema_suffix(self) -> str:
        return self.catalogue.names.suffix

    @property
    def metadata_schema(self) -> str:
        return self.catalogue.metadata_schema

    def schema_name(self, stage: str) -> str:
        return self.catalogue.names.schema(stage)

    def data_schema_name(self, stage: str) -> str:
        return self.catalogue.names.data_schema(stage)

    def canonical_sql(self, sql: Any) -> str:
        return self.catalogue.canonical_sql(sql)

    def close(self) -> None:
        self.dialect.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({mask_url(self.url)!r})"
