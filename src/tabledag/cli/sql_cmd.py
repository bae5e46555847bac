"""`tabledag sql MODULE:FLOW TASK --dialect D`: the statements that would build a lazy task's
tables on another database, rendered here, without a server of that dialect.

The task's function runs on its inputs as committed in the configured store (DuckDB on a
laptop, say); its query, a sqlglot tree, is rewritten to name the stage views and rendered by
the target dialect's own `create_table_as`: `CREATE TABLE AS` on Postgres, DuckDB and
Snowflake, `SELECT ... INTO` on SQL Server, DB2's `CREATE TABLE ... AS (...) WITH NO DATA`
followed by `INSERT`. Nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import config_options, find_task, load_config, load_flow, store_session

DIALECT_NAMES = {
    "duckdb": "duckdb://",
    "postgres": "postgresql://",
    "postgresql": "postgresql://",
    "snowflake": "snowflake://render@account/database",
    "mssql": "mssql://",
    "tsql": "mssql://",
    "db2": "db2://",
}
"""`--dialect` values -> a URL the dialect registry builds that dialect from (never connected)."""


def render_create(tree: object, dialect_name: str, stage: str, name: str) -> list[str]:
    """The statements `dialect_name` would run to build table `stage.name` from `tree`."""
    from sqlglot import exp

    from ..stores.sql.dialect import table
    from ..stores.sql.dialects import dialect_class

    url = DIALECT_NAMES[dialect_name]
    dialect = dialect_class(url)(url)
    assert isinstance(tree, exp.Query)
    return [dialect.render(s) for s in dialect.create_table_as(table(stage, name), tree)]


@click.command()
@click.argument("flow_spec", metavar="MODULE:FLOW")
@click.argument("task_name", metavar="TASK")
@config_options
@click.option(
    "--dialect",
    "-d",
    "dialects",
    multiple=True,
    type=click.Choice(sorted(DIALECT_NAMES), case_sensitive=False),
    help="Dialect to render for (repeatable; default: the configured store's).",
)
def sql(
    flow_spec: str,
    task_name: str,
    config_path: Path | None,
    instance: str | None,
    dialects: tuple[str, ...],
) -> int:
    """Print the SQL that builds a lazy task's tables, for any supported dialect."""
    from ..core.task_sql import task_queries

    flow = load_flow(flow_spec)
    call = find_task(flow, task_name)
    config = load_config(config_path, instance)
    with store_session(config) as (session, _):
        queries = {name: session.logical_tree(q) for name, q in task_queries(session, call).items()}
        own = session.sqlglot_dialect
    for dialect_name in dialects or (None,):
        for name, tree in queries.items():
            if dialect_name is None:
                label = getattr(own, "__name__", str(own)).removeprefix("Tabledag")
                statements = [tree.sql(dialect=own, pretty=True, comments=False)]
                click.echo(f"-- {call.stage.name}.{name} ({label}, as the store runs it)")
            else:
                statements = render_create(tree, dialect_name.lower(), call.stage.name, name)
                click.echo(f"-- {call.stage.name}.{name} ({dialect_name.lower()})")
            for statement in statements:
                click.echo(f"{statement};")
            click.echo()
    return 0
