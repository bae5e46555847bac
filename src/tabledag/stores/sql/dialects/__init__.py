"""The dialect registry: URL scheme -> dialect class, imported only when first used."""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING

from ....errors import ConfigError

if TYPE_CHECKING:
    from ..dialect import Dialect

DIALECTS: dict[str, str] = {
    "duckdb": "tabledag.stores.sql.dialects.duckdb:DuckDB",
    "postgresql": "tabledag.stores.sql.dialects.postgres:Postgres",
    "postgres": "tabledag.stores.sql.dialects.postgres:Postgres",
    "snowflake": "tabledag.stores.sql.dialects.snowflake:Snowflake",
    "mssql": "tabledag.stores.sql.dialects.mssql:MSSQL",
}


def dialect_class(url: str) -> type[Dialect]:
    """The dialect class for a database URL such as `postgresql://...` or `duckdb:///x.duckdb`."""
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    target = DIALECTS.get(scheme)
    if target is None:
        close = difflib.get_close_matches(scheme, DIALECTS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"unknown database {scheme!r} in the table store URL.{hint} "
            f"Known: {', '.join(sorted(DIALECTS))}"
        )
    module_name, _, class_name = target.partition(":")
    cls: type[Dialect] = getattr(importlib.import_module(module_name), class_name)
    return cls
