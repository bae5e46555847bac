"""Reading the database behind tabledag's back: fresh connections, catalogue queries."""

from __future__ import annotations

import re

from tabledag import Config


def query(config: Config, sql: str) -> list[tuple]:
    """Run `sql` on a fresh connection to the config's database; return all rows.

    An in-memory store has no outside: there the query goes through the store's own DuckDB
    connection (the only one that sees its Arrow tables)."""
    from tabledag import ArrowTableStore, ParquetTableStore

    store = config.store
    if isinstance(store, ArrowTableStore):
        with store.session() as session:
            return session.connection.execute(sql)
    if store.dialect.name == "duckdb":
        import duckdb

        con = duckdb.connect(store.dialect.database)
        try:
            remote = isinstance(store, ParquetTableStore) and not store.location.is_local
            if remote and "s3" not in con.list_filesystems():  # once per database per process
                con.register_filesystem(store.fs)
            return con.execute(sql).fetchall()
        finally:
            con.close()
    if store.dialect.name == "mssql":
        from tabledag.loaders.mssql_odbc import OdbcSession

        session = OdbcSession(store.dialect.odbc, bulk="pyodbc")
        try:
            return session.execute(sql)
        finally:
            session.close()
    if store.dialect.name == "snowflake":
        return _snowflake_query(store, sql)
    import psycopg2

    con = psycopg2.connect(store.url)
    try:
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        con.close()


def qname(*parts: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def physical_tables(config: Config, stage: str) -> set[str]:
    """Names of the physical tables of a stage: base tables in its `__data` schema, the
    parquet files in its directory, or the Arrow tables an in-memory store holds."""
    from tabledag import ArrowTableStore, ParquetTableStore

    store = config.store
    schema = store.data_schema_name(stage)
    if isinstance(store, ArrowTableStore):
        return {name for s, name in store.tables if s == schema}
    if isinstance(store, ParquetTableStore):
        directory = store.location.path(store.schema_name(stage))
        store.fs.invalidate_cache(directory)
        if not store.fs.exists(directory):
            return set()
        names = store.fs.ls(directory, detail=False)
        return {
            n.rsplit("/", 1)[-1].removesuffix(".parquet") for n in names if n.endswith(".parquet")
        }
    if store.dialect.name == "snowflake":  # folded names: the dialect's own catalogue query
        return {
            r[0] for r in query(config, store.dialect.render(store.dialect.list_tables(schema)))
        }
    rows = query(
        config,
        "SELECT table_name FROM information_schema.tables "
        f"WHERE table_schema = '{schema}' AND table_type = 'BASE TABLE'",
    )
    return {r[0] for r in rows}


def view_target(config: Config, stage: str, view: str) -> str:
    """The physical table the stage view `view` selects from, read from the catalogue."""
    store = config.store
    schema = store.schema_name(stage)
    data_schema = store.data_schema_name(stage)
    if store.dialect.name == "duckdb":
        rows = query(
            config,
            f"SELECT sql FROM duckdb_views() WHERE schema_name = '{schema}' "
            f"AND view_name = '{view}'",
        )
        assert len(rows) == 1, f"no view {schema}.{view}: {rows}"
        found = re.findall(re.escape(data_schema) + r'"?\."?([A-Za-z0-9_]+)', rows[0][0])
        assert len(found) == 1, rows[0][0]
        return found[0]
    if store.dialect.name == "snowflake":
        from tabledag.stores.sql.dialects.snowflake.names import fold, unfold

        rows = query(
            config,
            "SELECT view_definition FROM information_schema.views "
            f"WHERE table_schema = '{fold(schema)}' AND table_name = '{fold(view)}'",
        )
        assert len(rows) == 1, f"no view {schema}.{view}: {rows}"
        found = re.findall(re.escape(fold(data_schema)) + r'"?\."?([A-Za-z0-9_]+)', rows[0][0])
        assert len(found) == 1, rows[0][0]
        return unfold(found[0])
    rows = query(
        config,
        "SELECT table_schema, table_name FROM information_schema.view_table_usage "
        f"WHERE view_schema = '{schema}' AND view_name = '{view}'",
    )
    assert len(rows) == 1, f"view {schema}.{view} uses {rows}"
    assert rows[0][0] == data_schema
    return rows[0][1]


def read_view(config: Config, stage: str, view: str, order_by: str | None = None) -> list[tuple]:
    """All rows of `stage.view`, read on a fresh connection."""
    sql = f"SELECT * FROM {qname(config.store.schema_name(stage), view)}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    return query(config, sql)


def _snowflake_query(store, sql: str) -> list[tuple]:
    """`sql` (written as for the other databases: quoted lower-case names) rendered by the
    Snowflake dialect, so its names fold as the store's do, on a connector session of its own."""
    import sqlglot

    from tabledag.stores.sql.dialect import ident

    dialect = store.dialect
    rendered = dialect.render(sqlglot.parse_one(sql, read=dialect.sqlglot))
    import snowflake.connector

    con = snowflake.connector.connect(**dialect.connect_kwargs)
    con.cursor().execute(f"USE DATABASE {dialect.render(ident(dialect.database))}")
    try:
        cursor = con.cursor()
        cursor.execute(rendered)
        return [tuple(r) for r in cursor.fetchall()] if cursor.description else []
    finally:
        con.close()
