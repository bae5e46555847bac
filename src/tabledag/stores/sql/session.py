"""SQLSession: one connection to a SQL store, and the one place SQL is rendered and sent.

Every statement is a sqlglot tree until `execute()` renders it with the dialect, logs it and
sends it: one statement per call, unless the dialect declares batches. After each call the
store's `fault_point` runs, the seam tests use to stop a run after any single statement.

Write order makes every kill point safe: a physical table is created (autocommit) before any
record names it; a commit changes views and records atomically; cleanup forgets records before
it drops the tables they named, so a record never outlives its table (and a table a record no
longer names is an orphan the next cleanup drops).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ...cache import keys
from ...cache.hashing import arrow_hash
from ...errors import CommitError, StoreError, TableOptionsError, UnsupportedTypeError
from ...outputs import ExternalRef, Table, TableRef
from ...util import mask_url
from ..base import (
    Eager,
    Lazy,
    Output,
    Raw,
    RunRecord,
    StageRun,
    Stored,
    StoreSession,
    TableFiles,
    TableRecord,
    TableStats,
    TableStore,
    TaskRecord,
)
from . import metadata, table_options, upkeep
from .dialect import Verbatim, table
from .statement_errors import statement_error

if TYPE_CHECKING:
    import pyarrow as pa

    from ...locks import Locks
    from .catalogue import Catalogue
    from .dialect import Connection
    from .physical import PhysicalTables
    from .table_options import TableOptions

logger = logging.getLogger("tabledag.store")


class SQLSession(StoreSession):
    """A session over a catalogue database; `physical` says where table data lives."""

    def __init__(
        self,
        store: TableStore,
        catalogue: Catalogue,
        physical: PhysicalTables,
        connection: Connection,
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.dialect = catalogue.dialect
        self.names = catalogue.names
        self.physical = physical
        self.connection = connection
        self._render = self.dialect.renderer()
        self._ibis: Any = None
        self._schemas: set[str] = set()
        self._learned: dict[tuple[str, str], str] = {}
        """(stage, key) -> columns JSON learnt from the catalogue, recorded at the next commit."""

    # -- the choke point ------------------------------------------------------------------------

    def execute(
        self,
        statements: exp.Expr | Sequence[exp.Expr],
        *,
        phase: str = "read",
        arrow: tuple[str, exp.Table, pa.Table] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Render, log and run statements; the rows of the last one.

        With `arrow=(source, target, data)` the statements create `target` and the connection
        bulk-loads `data` (visible to them as `source`).
        """
        if isinstance(statements, exp.Expr):
            statements = [statements]
        rendered = [self._render(s) for s in statements]
        if self.catalogue.print_sql:
            for sql in rendered:
                logger.info("SQL: %s", mask_url(sql))
        if arrow is not None:
            source, target, data = arrow
            if self.catalogue.print_sql:
                logger.info("LOAD %d rows into %s", data.num_rows, self.dialect.render(target))
            self.connection.load_arrow(
                rendered,
                source,
                (target.db, target.name),
                data,
                lambda sql: self.store.fault_point(phase, sql),
            )
            return []
        if self.dialect.supports_batches and len(rendered) > 1:
            rendered = [";\n".join(rendered)]
        rows: list[tuple[Any, ...]] = []
        for sql in rendered:
            rows = self.connection.execute(sql)
            self.store.fault_point(phase, sql)
        return rows

    @contextmanager
    def transaction(self, phase: str) -> Iterator[None]:
        self.connection.begin()
        try:
            yield
        except BaseException:
            try:
                self.connection.rollback()
            except Exception as error:  # the connection died with the transaction
                logger.warning("rollback failed: %s", error)
            raise
        self.connection.commit()
        self.store.fault_point(phase, "COMMIT")

    # -- metadata setup -------------------------------------------------------------------------

    def setup(self, locks: Locks) -> None:
        """Create the metadata schema and tables, or add columns an older version lacks; then
        let the physical tables bring the catalogue up to date."""
        if not self.catalogue.is_setup:
            schema = self.catalogue.metadata_schema
            missing = metadata.missing_columns(self._metadata_columns(schema))
            if missing:
                with locks.setup():
                    missing = metadata.missing_columns(self._metadata_columns(schema))
                    if missing:
                        self.execute(self.dialect.create_schema(schema), phase="setup")
                        statements = metadata.setup_statements(schema, missing, self.dialect)
                        self.execute(statements, phase="setup")
            self.catalogue.is_setup = True
        self.physical.prepare(self)

    def _metadata_columns(self, schema: str) -> list[tuple[str, str]]:
        rows = self.execute(self.dialect.list_columns(schema, list(metadata.TABLES)))
        return [(t, c) for t, c, _ in rows]

    # -- stage lifecycle ------------------------------------------------------------------------

    def begin_stage(self, stage: str) -> StageRun:
        queries = metadata.select_statements(self.catalogue.metadata_schema, stage)
        rows = {name: self.execute(query) for name, query in queries.items()}
        data_schema = self.names.data_schema(stage)
        physical = self.physical.present(self, stage)
        if physical:
            self._schemas.add(data_schema)
        committed = metadata.committed_stage(stage, rows, physical)
        for record in committed.tables.values():
            if record.columns:
                self.catalogue.columns[(data_schema, record.physical)] = record.columns
        return StageRun(committed)

    def write(
        self, run: StageRun, table_: Table, output: Output, task_key: keys.Key, force: str | None
    ) -> Stored:
        assert table_.name is not None
        where = f"table {table_.name!r} of stage {run.stage!r}"
        resolved = table_options.resolve(table_, self.dialect, self.catalogue.details, where)
        if resolved.changes_columns and not self.physical.table_options:
            raise TableOptionsError(
                f"{where}: {type(self.store).__name__} does not apply type_map, nullable or "
                "non_nullable (its tables are not database tables); remove them"
            )
        options = (table_.primary_key, table_.indexes, *resolved.key_part())
        if isinstance(output, Eager):
            resolved.check_columns(output.data.column_names, where)
            return self._write_arrow(run, table_, output, force, options, resolved)
        if isinstance(output, Raw):
            key = keys.raw_key(run.stage, table_.name, task_key, output.sql, options)
            return self._write(run, table_, key, sql=output.sql, options=resolved)
        assert isinstance(output, Lazy)
        found_by = None
        if output.fingerprint is not None and force is None:
            found_by = keys.fingerprint_key(
                run.stage, table_.name, task_key, output.fingerprint, options
            )
            record = run.by_fingerprint(found_by)
            if record is not None:
                return Stored(self._register(run.stage, record), record, hit=True)
        sql = self._render_query(output)
        key = keys.lazy_key(run.stage, table_.name, task_key, sql, options)
        if output.columns and resolved.changes_columns:
            resolved.check_columns([name for name, _ in output.columns], where)
        columns = (
            metadata.encode_columns(output.columns)
            if output.columns and not resolved.types  # a type_map changes the types
            else None
        )
        return self._write(
            run, table_, key, sql=sql, columns=columns, fingerprint=found_by, options=resolved
        )

    def _write_arrow(
        self,
        run: StageRun,
        table_: Table,
        output: Eager,
        force: str | None,
        options: Any,
        resolved: TableOptions,
    ) -> Stored:
        assert table_.name is not None
        data = output.data
        if data.num_columns == 0:
            raise StoreError(f"table {table_.name!r} has no columns; a table needs at least one")
        problems = self.dialect.unsupported_columns(data.schema)
        if problems:
            listed = ", ".join(f"{name!r} ({kind})" for name, kind in problems)
            raise UnsupportedTypeError(
                f"table {table_.name!r} of stage {run.stage!r}: {self.dialect.name} cannot hold "
                f"column(s) {listed}; convert them (e.g. to strings, or lists of a primitive "
                "type) before returning the table. Nothing was written."
            )
        key = keys.eager_key(run.stage, table_.name, arrow_hash(data), force, options)
        stored = self._write(run, table_, key, data=data, frame=output.frame, options=resolved)
        stored = dataclasses.replace(stored, rows=data.num_rows, bytes=data.nbytes)
        cache = self.catalogue.local_table_cache
        if cache is not None and cache.store_output and not cache.has(stored.ref):
            cache.put(stored.ref, data)
        return stored

    def _write(
        self,
        run: StageRun,
        table_: Table,
        key: str,
        *,
        data: pa.Table | None = None,
        frame: Any = None,
        sql: str | None = None,
        columns: str | None = None,
        fingerprint: str | None = None,
        options: TableOptions = table_options.NO_OPTIONS,
    ) -> Stored:
        """Create the physical table for `key` (from `data`, else from `sql`) unless it is kept."""
        assert table_.name is not None
        record = run.known(key)
        if record is not None:
            return Stored(self._register(run.stage, record), record, hit=True)
        name = table_.name
        physical = self.names.physical(name, key)
        record = TableRecord(
            key, name, self.names.view(name), physical, 0, columns, fingerprint, sql
        )
        data_schema = self.names.data_schema(run.stage)
        target = table(data_schema, physical)

        def create() -> None:
            if data is not None:
                self.physical.create_from_arrow(
                    self, run.stage, target, data, table_, frame, options=options
                )
            else:
                assert sql is not None
                self.physical.create_from_query(
                    self, run.stage, target, sql, table_, options=options
                )

        try:
            self._ensure_schema(data_schema)
            if physical in run.committed.physical:  # left behind by a failed or killed run
                self.physical.drop(self, run.stage, target, "write")
            try:
                create()
            except TableOptionsError:
                raise
            except Exception:
                # A worker killed during this run may have left the table (its server session
                # finished the write after it died); the stage lock keeps other runs out, so
                # it is ours: replace it.
                if physical not in self.physical.present(self, run.stage):
                    raise
                self.physical.drop(self, run.stage, target, "write")
                create()
        except TableOptionsError:  # found once the query's columns were known
            self.physical.drop(self, run.stage, target, "write")
            raise
        except Exception as error:
            raise statement_error(
                f"writing table {name!r} of stage {run.stage!r} failed: "
                f"{type(error).__name__}: {mask_url(str(error).strip())}",
                error,
            ) from error
        if columns:
            self.catalogue.columns[(data_schema, physical)] = columns
        return Stored(self._register(run.stage, record), record, hit=False)

    def _ensure_schema(self, schema: str, phase: str = "write") -> None:
        if schema not in self._schemas:
            self.execute(self.dialect.create_schema(schema), phase=phase)
            self._schemas.add(schema)

    def prepare_writers(self, run: StageRun) -> None:
        self._ensure_schema(self.names.data_schema(run.stage))

    def adopt(self, run: StageRun, stored: Stored) -> None:
        record = stored.record
        self._register(run.stage, record)
        if record.columns:
            self.catalogue.columns[(self.names.data_schema(run.stage), record.physical)] = (
                record.columns
            )

    def _register(self, stage: str, record: TableRecord) -> TableRef:
        """The reference, with its logical name remembered for canonical SQL."""
        data_schema = self.names.data_schema(stage)
        self.catalogue.logical[(data_schema, record.physical)] = (
            self.names.schema(stage),
            record.view_name,
        )
        return record.ref(stage)

    # -- commit and cleanup ---------------------------------------------------------------------

    def commit_stage(self, run: StageRun) -> int | None:
        committed = run.committed
        old_views = committed.views
        changed = {
            v: r for v, r in run.views.items() if v not in old_views or old_views[v].key != r.key
        }
        removed = sorted(v for v in old_views if v not in run.views)
        new_tasks, changed_tasks, kept_tasks = [], [], []
        for record in run.tasks.values():
            old = committed.tasks.get((record.task, record.task_key))
            if old is None:
                new_tasks.append(record)
            elif (old.outputs, old.inputs) != (record.outputs, record.inputs):
                changed_tasks.append(record)
            else:
                kept_tasks.append((record.task, record.task_key))
        kept_keys = [r.key for r in run.views.values() if r.key not in run.created]
        stale = any(committed.tables[k].generation != committed.generation for k in kept_keys)
        unchanged = not (changed or removed or new_tasks or changed_tasks or run.created or stale)
        if unchanged and not self._learned:
            return None
        generation = committed.generation + 1
        new_tables = self._with_columns(run, list(run.created.values()))
        learned = self._take_learned()
        schema = self.names.schema(run.stage)
        data_schema = self.names.data_schema(run.stage)
        plan = self.dialect.commit_views(
            schema,
            {v: table(data_schema, r.physical) for v, r in sorted(changed.items())},
            removed,
            {v: table(data_schema, r.physical) for v, r in run.views.items()},
        )
        meta = self.catalogue.metadata_schema
        statements = [
            *plan.in_transaction,
            *metadata.commit_statements(
                meta,
                run.stage,
                generation,
                new_tables=new_tables,
                kept_keys=kept_keys,
                new_tasks=new_tasks,
                changed_tasks=changed_tasks,
                kept_tasks=kept_tasks,
            ),
        ]
        for stage, columns in learned.items():
            statements += metadata.column_statements(meta, stage, columns)
        try:
            self._ensure_schema(schema, "commit")
            self.execute(plan.prepare, phase="commit")
            self._wait_for_older_snapshots()
            self._commit_with_retries(statements)
            self.execute(plan.finish, phase="commit")
            tables, tasks = _records_now(run, generation, new_tables)
            self.physical.committed(self, run.stage, generation, tables, tasks)
        except CommitError:
            raise
        except Exception as error:
            raise CommitError(
                f"stage {run.stage!r} could not be committed: {type(error).__name__}: "
                f"{mask_url(str(error).strip())}; it still shows its previous generation"
            ) from error
        return generation

    def _commit_with_retries(self, statements: list[exp.Expr]) -> None:
        """One transaction; retried while it loses lock waits to readers (never deadlocks)."""
        deadline = time.monotonic() + float(self.dialect.args.get("lock_timeout", 600))
        pause = 0.05
        while True:
            try:
                with self.transaction("commit"):
                    self.execute(statements, phase="commit")
                return
            except Exception as error:
                if not self.dialect.is_lock_conflict(error) or time.monotonic() > deadline:
                    raise
                logger.info("commit waited too long for a reader's lock; retrying")
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def _wait_for_older_snapshots(self) -> None:
        clock = self.dialect.clock()
        if clock is None:
            return
        ((since,),) = self.execute(clock)
        deadline = time.monotonic() + float(self.dialect.args.get("snapshot_wait", 60))
        pause = 0.02
        while True:
            query = self.dialect.older_snapshots(since)
            assert query is not None
            readers = self.execute(query, phase="wait")
            if not readers:
                return
            if time.monotonic() > deadline:
                logger.warning(
                    "committing although session(s) %s hold a snapshot older than the new "
                    "tables; they will see the new views as empty until they end",
                    ", ".join(str(r[0]) for r in readers),
                )
                return
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def _with_columns(self, run: StageRun, records: list[TableRecord]) -> list[TableRecord]:
        """Records with column types filled in where unknown: from what this process learnt,
        else from the catalogue (one query for all of them)."""
        data_schema = self.names.data_schema(run.stage)
        known = self.catalogue.columns
        records = [
            r if r.columns else dataclasses.replace(r, columns=known.get((data_schema, r.physical)))
            for r in records
        ]
        for r in records:
            self._learned.pop((run.stage, r.key), None)  # inserted with them below
        unknown = [r.physical for r in records if not r.columns]
        if not unknown:
            return records
        found = self._catalogue_columns(data_schema, unknown)
        return [
            r
            if r.columns or r.physical not in found
            else dataclasses.replace(r, columns=found[r.physical])
            for r in records
        ]

    def _catalogue_columns(self, schema: str, tables: list[str]) -> dict[str, str]:
        per_table: dict[str, list[tuple[str, str]]] = {}
        for name, column, kind in self.execute(self.dialect.list_columns(schema, tables)):
            per_table.setdefault(name, []).append((column, kind))
        found = {name: metadata.encode_columns(columns) for name, columns in per_table.items()}
        for name, text in found.items():
            self.catalogue.columns[(schema, name)] = text
        return found

    def _take_learned(self) -> dict[str, dict[str, str]]:
        learned: dict[str, dict[str, str]] = {}
        for (stage, key), text in self._learned.items():
            learned.setdefault(stage, {})[key] = text
        self._learned.clear()
        return learned

    def collect_garbage(self, run: StageRun, generation: int, *, drop: bool) -> None:
        meta = self.catalogue.metadata_schema
        self.execute(metadata.forget_statements(meta, run.stage, generation - 1), phase="cleanup")
        if not drop:
            return
        keep = {r.physical for r in run.views.values()}
        keep |= {
            r.physical for r in run.committed.tables.values() if r.generation >= generation - 1
        }
        present = run.committed.physical | {r.physical for r in run.created.values()}
        data_schema = self.names.data_schema(run.stage)
        for physical in sorted(present - keep):
            self.physical.drop(self, run.stage, table(data_schema, physical), "cleanup")

    # -- inspecting and cleaning (stores/sql/upkeep.py) -----------------------------------------

    def committed_stages(self) -> dict[str, int]:
        return upkeep.committed_stages(self)

    def stage_tables(self, stage: str) -> list[TableStats]:
        return upkeep.stage_tables(self, stage)

    def garbage(self, stage: str) -> list[str]:
        return upkeep.garbage(self, stage)

    def drop_garbage(self, stage: str, physical: Sequence[str]) -> None:
        upkeep.drop_garbage(self, stage, physical)

    def delete_instance(self) -> list[str]:
        return upkeep.delete_instance(self)

    def create_table(self, schema: str, table_: Table, output: Output) -> None:
        if self.physical.files or not self.physical.table_options:
            raise StoreError(
                f"{self.store!r} keeps its tables outside the database: interactive "
                "materialization needs a SQL database store"
            )
        assert table_.name is not None
        target = table(schema, table_.name)
        self._ensure_schema(schema, phase="debug")
        self.physical.drop(self, schema, target, "debug")
        if isinstance(output, Eager):  # written as a stage's table is, keys included
            self.physical.create_from_arrow(self, schema, target, output.data, table_)
            return
        sql = output.sql if isinstance(output, Raw) else self._render_query(output)
        self.physical.create_from_query(self, schema, target, sql, table_)

    def forget_schemas(self) -> None:
        """The schemas and metadata this session knew to exist are gone (dropped)."""
        self._schemas.clear()
        self.catalogue.is_setup = False
        self.catalogue.columns.clear()

    # -- run records ----------------------------------------------------------------------------

    def record_run(self, record: RunRecord) -> None:
        self.physical.record_run(self, record)

    def run_records(self, run_id: str | None = None, limit: int = 20) -> list[RunRecord]:
        return self.physical.run_records(self, run_id, limit)

    # -- reading --------------------------------------------------------------------------------

    @property
    def sqlglot_dialect(self) -> Any:
        return self.dialect.sqlglot

    @property
    def sqlalchemy_dialect(self) -> tuple[str, str]:
        return self.dialect.sqlalchemy

    def sql_table(self, ref: TableRef) -> exp.Table:
        if isinstance(ref, ExternalRef):  # a table tabledag does not manage, where it is
            return table(ref.schema, ref.name)
        physical = self.names.physical(ref.name, ref.key)
        data_schema = self.names.data_schema(ref.stage)
        self.catalogue.logical[(data_schema, physical)] = (
            self.names.schema(ref.stage),
            self.names.view(ref.name),
        )
        return table(data_schema, physical)

    def column_types(self, ref: TableRef) -> list[tuple[str, str]]:
        target = self.sql_table(ref)
        columns = metadata.decode_columns(self.catalogue.columns.get((target.db, target.name)))
        if columns is None:  # not recorded yet (an output of this run): ask the catalogue once
            columns = [(name, kind) for name, kind in self.execute(self.dialect.describe(target))]
            if not columns:
                raise StoreError(f"table {ref.name!r} of stage {ref.stage!r} does not exist")
            text = metadata.encode_columns(columns)
            self.catalogue.columns[(target.db, target.name)] = text
            self._learned[(ref.stage, ref.key)] = text
        return columns

    def read_arrow(self, ref: TableRef, limit: int | None = None) -> pa.Table:
        """The table's data: from the local table cache where it has the table."""
        cache = self.catalogue.local_table_cache
        if isinstance(ref, ExternalRef):
            cache = None  # its content changes under tabledag: never kept
        if cache is not None and cache.use_stored_input_as_cache:
            data = cache.get(ref)
            if data is not None:
                return data if limit is None else data.slice(0, limit)
        data = self.physical.read_arrow(self, ref.stage, self.sql_table(ref), limit)
        if cache is not None and cache.store_input and limit is None:
            cache.put(ref, data)
        return data

    def count_rows(self, ref: TableRef) -> int:
        return upkeep.count_rows(self, self.sql_table(ref))

    def query_arrow(self, output: Lazy) -> pa.Table:
        return self.connection.read_arrow(self._render_query(output))

    def _render_query(self, output: Lazy) -> str:
        """A lazy output's SQL; a tree built for it alone (`owned`) without sqlglot's copy."""
        tree = output.build()
        return self.dialect.render_owned(tree) if output.owned else self.dialect.render(tree)

    def table_files(self, ref: TableRef) -> TableFiles:
        if not self.physical.files:
            return super().table_files(ref)
        return self.physical.table_files(self, ref.stage, self.names.physical(ref.name, ref.key))

    def render(self, expression: exp.Expr) -> str:
        return self.dialect.render(expression)

    def parse_sql(self, sql: str) -> exp.Query:
        """A SELECT's tree; text sqlglot cannot parse is kept as written (`Verbatim`), so the
        database judges it and reports its own error (as pipedag, which sends it unparsed)."""
        import sqlglot

        try:
            tree = sqlglot.parse_one(sql, read=self.dialect.sqlglot)
        except sqlglot.errors.ParseError as error:
            logger.info("sqlglot cannot parse this SQL, sent as written: %s", error)
            return Verbatim(this=sql)
        if not isinstance(tree, exp.Query):
            raise StoreError(f"expected a SELECT query, got: {sql[:200]}")
        return tree

    def canonical_sql(self, query: exp.Expr | str) -> str:
        return self.catalogue.canonical_sql(query)

    def logical_tree(self, query: exp.Expr) -> exp.Expr:
        from ...cache.canonical_sql import logical_tree

        return logical_tree(query, self.catalogue.logical)

    @property
    def ibis(self) -> Any:
        if self._ibis is None:
            self._ibis = self.dialect.ibis_backend(self.connection)
        return self._ibis

    def close(self) -> None:
        backend, self._ibis = self._ibis, None
        try:
            if backend is not None and backend.con is not getattr(self.connection, "con", None):
                backend.disconnect()  # a backend with a connection of its own
        finally:
            self.connection.close()


def _records_now(
    run: StageRun, generation: int, new_tables: list[TableRecord]
) -> tuple[list[TableRecord], list[TaskRecord]]:
    """The stage's records after a commit at `generation`: this generation's and the one before
    (what cleanup keeps)."""
    created = {r.key: r for r in new_tables}
    now = [
        dataclasses.replace(created.get(r.key, r), generation=generation)
        for r in run.views.values()
    ]
    shown = {r.key for r in now}
    previous = run.committed.generation
    now += [
        r for r in run.committed.tables.values() if r.generation == previous and r.key not in shown
    ]
    tasks = [dataclasses.replace(t, generation=generation) for t in run.tasks.values()]
    ran = {(t.task, t.task_key) for t in tasks}
    tasks += [
        t for k, t in run.committed.tasks.items() if t.generation == previous and k not in ran
    ]
    return now, tasks
