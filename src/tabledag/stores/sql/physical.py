"""Where a physical table's data lives: the one thing the SQL store, the parquet store and the
in-memory store do differently.

`SQLSession` keeps the catalogue (metadata records, stage views, commits, cleanup order) and
asks a `PhysicalTables` to create, list, read and drop the immutable tables behind it. Every
physical table is reachable in the catalogue database under one SQL name
(`<stage>__data.<name>__<key>`), so lazy queries, ibis and SQLAlchemy inputs work the same over
all of them: a real table here (`DatabaseTables`), a view over parquet files (stores/parquet/),
a view over Arrow data in memory (stores/memory.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from .. import run_files
from . import metadata
from .dialect import Verbatim, with_properties
from .table_options import NO_OPTIONS, TableOptions

if TYPE_CHECKING:
    import pyarrow as pa

    from ...outputs import Table
    from ..base import RunRecord, TableFiles, TableRecord, TaskRecord
    from .session import SQLSession

_arrow_sources = iter(range(1 << 62))


class PhysicalTables(ABC):
    """Creates, lists, reads and drops physical tables for one session."""

    files: bool = False
    """Whether tables are files frame libraries can read directly (`table_files`)."""

    table_options: bool = False
    """Whether `create_*` apply `TableOptions` (column types, NOT NULL, option sets); the
    session refuses options a layer would ignore."""

    def prepare(self, session: SQLSession) -> None:
        """When a run starts (under its run lock): bring the catalogue up to date with data that
        lives outside it (the parquet store adopts what other processes committed)."""

    @abstractmethod
    def present(self, session: SQLSession, stage: str) -> frozenset[str]:
        """Names of the physical tables of `stage` that exist (orphans included)."""

    @abstractmethod
    def create_from_query(
        self,
        session: SQLSession,
        stage: str,
        target: exp.Table,
        sql: str,
        table_: Table,
        options: TableOptions = NO_OPTIONS,
    ) -> None:
        """Create `target` from a SELECT statement (rendered SQL text) with `options`."""

    @abstractmethod
    def create_from_arrow(
        self,
        session: SQLSession,
        stage: str,
        target: exp.Table,
        data: pa.Table,
        table_: Table,
        frame: Any = None,
        options: TableOptions = NO_OPTIONS,
    ) -> None:
        """Create `target` holding `data` (`frame`: the frame it came from, see `Eager`)."""

    @abstractmethod
    def drop(self, session: SQLSession, stage: str, target: exp.Table, phase: str) -> None:
        """Remove `target` (it may be half-written, or gone already)."""

    def read_arrow(
        self, session: SQLSession, stage: str, target: exp.Table, limit: int | None
    ) -> pa.Table:
        query = exp.select("*").from_(target)
        if limit is not None:
            query = query.limit(limit)
        return session.connection.read_arrow(session.dialect.render(query))

    def committed(
        self,
        session: SQLSession,
        stage: str,
        generation: int,
        tables: Sequence[TableRecord],
        tasks: Sequence[TaskRecord],
    ) -> None:
        """After a stage committed: `tables` and `tasks` are its records now."""

    def table_files(self, session: SQLSession, stage: str, physical: str) -> TableFiles:
        raise NotImplementedError

    def stats(
        self, session: SQLSession, stage: str, target: exp.Table
    ) -> tuple[int | None, int | None]:
        """Rows and bytes of one physical table (bytes where the dialect can say)."""
        from .upkeep import count_rows

        size = session.dialect.table_size(target)
        return count_rows(session, target), (
            int(session.execute(size)[0][0]) if size is not None else None
        )

    def forget_stage(self, session: SQLSession, stage: str) -> None:
        """After `delete_instance` dropped a stage's tables and schemas: remove what else
        the layer keeps for it (the parquet store's directory and manifest)."""

    def record_run(self, session: SQLSession, record: RunRecord) -> None:
        """Keep a run record: one INSERT into the catalogue's `runs` table, or one file where
        the dialect keeps them as files."""
        directory = session.dialect.run_records_directory()
        if directory is not None:
            run_files.write_local(directory, record)
            return
        statement = metadata.run_statement(session.catalogue.metadata_schema, record)
        session.execute(statement, phase="record")

    def run_records(self, session: SQLSession, run_id: str | None, limit: int) -> list[RunRecord]:
        directory = session.dialect.run_records_directory()
        if directory is not None:
            return run_files.read_local(directory, run_id, limit)
        schema = session.catalogue.metadata_schema
        if not session.catalogue.is_setup and not session.execute(
            session.dialect.list_columns(schema, ["runs"])
        ):
            return []  # nothing ever ran here (a reader that is not a run creates nothing)
        query = metadata.runs_query(schema, run_id, limit)
        return [metadata.run_record(row) for row in session.execute(query)]


class DatabaseTables(PhysicalTables):
    """Real tables in the database: CREATE TABLE AS, the dialect's bulk load, DROP TABLE.

    With options that change columns, a query first makes an empty table, which is altered
    before `INSERT ... SELECT` fills it; Arrow data is loaded, then altered (see
    `table_options.py` for why)."""

    table_options = True

    def present(self, session: SQLSession, stage: str) -> frozenset[str]:
        schema = session.names.data_schema(stage)
        return frozenset(r[0] for r in session.execute(session.dialect.list_tables(schema)))

    def create_from_query(
        self,
        session: SQLSession,
        stage: str,
        target: exp.Table,
        sql: str,
        table_: Table,
        options: TableOptions = NO_OPTIONS,
    ) -> None:
        dialect = session.dialect
        properties = dialect.table_properties(options.details)
        if not options.changes_columns:
            statements = dialect.create_table_as(target, Verbatim(this=sql))
            session.execute(with_properties(statements, properties), phase="write")
        else:
            statements = dialect.empty_table_as(target, sql)
            session.execute(with_properties(statements, properties), phase="write")
            self._alter_columns(session, target, table_, options, None)
            session.execute(dialect.insert_from(target, sql), phase="write")
        self._finish(session, target, table_, options)

    def create_from_arrow(
        self,
        session: SQLSession,
        stage: str,
        target: exp.Table,
        data: pa.Table,
        table_: Table,
        frame: Any = None,
        options: TableOptions = NO_OPTIONS,
    ) -> None:
        source = f"__tabledag_arrow_{next(_arrow_sources)}"
        dialect = session.dialect
        statements = dialect.load_arrow(target, data.schema, source)
        statements = with_properties(statements, dialect.table_properties(options.details))
        session.execute(statements, phase="write", arrow=(source, target, data))
        if options.changes_columns:
            self._alter_columns(session, target, table_, options, data.column_names)
        self._finish(session, target, table_, options)

    def drop(self, session: SQLSession, stage: str, target: exp.Table, phase: str) -> None:
        session.execute(session.dialect.drop_table(target), phase=phase)

    def _alter_columns(
        self,
        session: SQLSession,
        target: exp.Table,
        table_: Table,
        options: TableOptions,
        names: list[str] | None,
    ) -> None:
        """Column types, then NOT NULL; the catalogue is asked for the columns where they are
        not known (a query's) or their types are needed (`not_null_needs_type`)."""
        dialect = session.dialect
        current: dict[str, exp.DataType] = {}
        if names is None or (dialect.not_null_needs_type and options.not_null(names)):
            rows = session.execute(dialect.describe(target))
            names = [str(name) for name, _ in rows]
            current = {str(name): dialect.parse_type(str(kind)) for name, kind in rows}
        options.check_columns(names, f"table {table_.name!r}")
        statements: list[exp.Expr] = []
        for column, kind in options.types.items():
            statements += dialect.alter_column_type(target, column, kind)
            current[column] = kind
        for column in options.not_null(names):
            statements += dialect.set_not_null(target, column, current.get(column))
        session.execute(statements, phase="write")

    def _finish(
        self, session: SQLSession, target: exp.Table, table_: Table, options: TableOptions
    ) -> None:
        """What follows the rows: the option set's statements, then keys and indexes."""
        index = session.names.view(f"{target.name}_cci")
        statements = session.dialect.after_create(target, options.details, index)
        if statements:
            session.execute(statements, phase="write")
        self._add_constraints(session, target, table_)

    def _add_constraints(self, session: SQLSession, target: exp.Table, table_: Table) -> None:
        dialect = session.dialect
        if table_.primary_key:
            statements = dialect.add_primary_key(target, list(table_.primary_key))
            session.execute(statements, phase="write")
        for i, columns in enumerate(table_.indexes or ()):
            name = session.names.view(f"{target.name}_idx{i}")
            session.execute(dialect.create_index(target, name, list(columns)), phase="write")


def view_over(target: exp.Table, source: exp.Expr) -> exp.Expr:
    """`CREATE VIEW target AS SELECT * FROM source` (for layers whose data lives elsewhere)."""
    return exp.Create(this=target, kind="VIEW", expression=exp.select("*").from_(source))
