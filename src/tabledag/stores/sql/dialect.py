"""What a SQL dialect supplies to `SQLTableStore`: flags, statement builders and a connection.

Builders are pure: they return sqlglot expressions, which the store renders once, logs and runs.
That keeps golden-SQL tests free of any server. Driver work (connecting, bulk load and read) sits
behind `Connection`, one small class per driver.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

if TYPE_CHECKING:
    import pyarrow as pa


class Connection:
    """One database session. Subclasses wrap a driver."""

    def execute(self, sql: str) -> list[tuple]:
        """Run one statement and return its rows (empty for DDL)."""
        raise NotImplementedError

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    def write_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        """Create `schema.table` holding `data`, through the driver's bulk path."""
        raise NotImplementedError

    def read_arrow(self, sql: str) -> pa.Table:
        """Run a query and return its result as Arrow, through the driver's bulk path."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class Dialect:
    """Base of the per-database dialects; subclasses are mostly declarations."""

    name: ClassVar[str]
    """The URL scheme family, e.g. "duckdb", "postgres"."""

    sqlglot: ClassVar[str]
    """The sqlglot dialect name SQL is rendered in."""

    sqlalchemy_dialect: ClassVar[str] = "postgresql"
    """The SQLAlchemy dialect used to compile SQLAlchemy queries before sqlglot reads them."""

    max_identifier_bytes: ClassVar[int] = 128
    """Longest identifier the database keeps intact."""

    writes_in_stage_transaction: ClassVar[bool] = False
    """Write a stage's physical tables inside its commit transaction. Only where the task's own
    reads (ibis, bulk reads) use the same connection, so they see the uncommitted tables."""

    def __init__(self, url: str, **args: Any) -> None:
        self.url = url
        self.args = args

    # -- connections ----------------------------------------------------------------------------

    def connect(self) -> Connection:
        raise NotImplementedError

    def run_lock(self, instance_id: str) -> AbstractContextManager[Any]:
        """Held for a whole run: keeps two processes out of one store where that matters."""
        from contextlib import nullcontext

        return nullcontext()

    def stage_lock(self, conn: Connection, instance_id: str, stage: str) -> AbstractContextManager:
        """Held while a stage runs and commits."""
        from contextlib import nullcontext

        return nullcontext()

    def ibis_backend(self, conn: Connection) -> Any:
        raise NotImplementedError(f"ibis is not wired up for {self.name}")

    # -- statements -----------------------------------------------------------------------------

    def create_schema(self, schema: str) -> list[exp.Expression]:
        return [exp.Create(this=exp.Table(db=_ident(schema)), kind="SCHEMA", exists=True)]

    def create_table_as(self, target: exp.Table, query: exp.Query) -> list[exp.Expression]:
        return [exp.Create(this=target, kind="TABLE", expression=query)]

    def drop_table(self, target: exp.Table) -> list[exp.Expression]:
        return [exp.Drop(tables=[target], kind="TABLE", exists=True)]

    def drop_view(self, target: exp.Table) -> list[exp.Expression]:
        return [exp.Drop(tables=[target], kind="VIEW", exists=True)]

    def point_view(self, view: exp.Table, target: exp.Table) -> list[exp.Expression]:
        """Statements making `view` show `target` (run inside the commit transaction)."""
        select = exp.select("*").from_(target)
        return [exp.Create(this=view, kind="VIEW", expression=select, replace=True)]

    def add_primary_key(self, target: exp.Table, columns: list[str]) -> list[exp.Expression]:
        cols = ", ".join(quote(c) for c in columns)
        return [_raw(f"ALTER TABLE {self.render(target)} ADD PRIMARY KEY ({cols})")]

    def create_index(
        self, target: exp.Table, index_name: str, columns: list[str]
    ) -> list[exp.Expression]:
        cols = ", ".join(quote(c) for c in columns)
        return [_raw(f"CREATE INDEX {quote(index_name)} ON {self.render(target)} ({cols})")]

    def list_tables(self, schema: str) -> exp.Query:
        return (
            exp.select("table_name")
            .from_("information_schema.tables")
            .where(exp.column("table_schema").eq(exp.Literal.string(schema)))
            .where(exp.column("table_type").eq(exp.Literal.string("BASE TABLE")))
        )

    def render(self, expression: exp.Expression) -> str:
        return expression.sql(dialect=self.sqlglot)

    def prepare_arrow(self, data: pa.Table) -> pa.Table:
        """Arrow data the bulk path accepts losslessly (no copy where nothing changes)."""
        return data


def table(schema: str, name: str) -> exp.Table:
    """A fully quoted `schema.name` reference."""
    return exp.Table(this=_ident(name), db=_ident(schema))


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _raw(sql: str) -> exp.Expression:
    """A statement kept as text: DDL sqlglot models poorly across dialects."""
    return exp.Command(this=sql)
