"""The dialect registry: URL scheme -> dialect class, imported only when first used.

A scheme with no tabledag dialect that SQLAlchemy can connect to is served by the generic,
PostgreSQL-like dialect (generic.py), with one `UnknownDialectWarning` per store naming it. A
scheme SQLAlchemy does not know either is a `ConfigError`, with "did you mean" for a near miss
of a known scheme (`duckbd://`).
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING

from ....errors import ConfigError
from ....util import mask_url

if TYPE_CHECKING:
    from ..dialect import Dialect

DIALECTS: dict[str, str] = {
    "duckdb": "tabledag.stores.sql.dialects.duckdb:DuckDB",
    "postgresql": "tabledag.stores.sql.dialects.postgres:Postgres",
    "postgres": "tabledag.stores.sql.dialects.postgres:Postgres",
    "snowflake": "tabledag.stores.sql.dialects.snowflake:Snowflake",
    "mssql": "tabledag.stores.sql.dialects.mssql:MSSQL",
    "db2": "tabledag.stores.sql.dialects.db2:DB2",
    "ibm_db_sa": "tabledag.stores.sql.dialects.db2:DB2",
}


class UnknownDialectWarning(UserWarning):
    """A store URL names a database tabledag has no dialect for."""


def dialect_class(url: str) -> type[Dialect]:
    """The dialect class for a database URL such as `postgresql://...` or `duckdb:///x.duckdb`."""
    full = url.split(":", 1)[0].lower()
    scheme = full.split("+", 1)[0]
    target = DIALECTS.get(scheme)
    if target is None:
        return _unknown(url, scheme, full.replace("+", "."))
    module_name, _, class_name = target.partition(":")
    cls: type[Dialect] = getattr(importlib.import_module(module_name), class_name)
    return cls


def _unknown(url: str, scheme: str, sqlalchemy_name: str) -> type[Dialect]:
    from sqlalchemy.dialects import registry

    try:
        registry.load(sqlalchemy_name)
    except Exception as error:
        import difflib  # on error paths only: it costs the import of tabledag ~1 ms

        close = difflib.get_close_matches(scheme, DIALECTS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"unknown database {scheme!r} in the table store URL.{hint} Known: "
            f"{', '.join(sorted(DIALECTS))}; any other needs a SQLAlchemy dialect, and "
            f"SQLAlchemy has none for {sqlalchemy_name.replace('.', '+')!r} ({error})"
        ) from error
    from .generic import generic_dialect

    cls = generic_dialect(scheme, sqlalchemy_name)
    rendered = cls.sqlglot.__name__.removeprefix("Tabledag")
    warnings.warn(
        f"tabledag has no dialect for {scheme!r} ({mask_url(url)}): treating it like "
        f"PostgreSQL (information_schema, CREATE TABLE AS, views re-pointed in one "
        f"transaction) with SQL rendered by sqlglot's {rendered} dialect, connected through "
        "SQLAlchemy, loading by batched inserts; check that the database supports this",
        UnknownDialectWarning,
        stacklevel=4,
    )
    return cls
