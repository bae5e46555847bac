"""SQLTableStore: immutable physical tables named by cache key, and one schema of views per stage.

A task output is written once into `<stage>__data.<name>__<key>` and never changed. The stage
schema holds views onto those tables; a stage commits by re-pointing its views and recording the
metadata in one transaction. Hence:

- a cache hit copies no data, whatever the table's size;
- a failed or killed run leaves the committed views, and the tables they show, untouched;
- the previous generation's tables are kept; older unreferenced ones are dropped after commit.

Everything that differs between databases comes from `self.dialect`; this module never names one.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ...cache.canonical_sql import canonical_sql
from ...cache.hashing import arrow_hash, stable_hash
from ...errors import StoreError
from ...hooks.base import HookRegistry
from ...outputs import Table
from ...util import mask_url
from .. import naming
from . import metadata
from .dialect import Connection, Dialect, table
from .dialects import dialect_class

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger("tabledag.store")


@dataclass
class StageRun:
    """The state of one stage while it runs: what is committed and what this run wrote."""

    stage: str
    schema: str
    data_schema: str
    state: metadata.StageState
    existing: set[str]
    """Physical tables present in the data schema when the stage started (incl. orphans)."""
    views: dict[str, metadata.TableRow] = field(default_factory=dict)
    """view name -> table, as this run will commit them."""
    created: dict[str, metadata.TableRow] = field(default_factory=dict)
    """key -> table, for tables this run wrote."""
    tasks: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    """(task, task_key) -> (outputs JSON, inputs JSON), for tasks to record."""
    in_transaction: bool = False
    """Whether the stage's writes run in a transaction that the commit will close."""


@dataclass
class Stored:
    """What writing one output gave: its reference, whether it was already kept, and for a lazy
    output its canonical SQL."""

    ref: Table
    hit: bool
    sql: str | None = None


@dataclass
class _Write:
    run: StageRun
    input_key: str
    force: bool = False
    result: Table | None = None
    hit: bool = False
    sql: str | None = None


_current_write: ContextVar[_Write | None] = ContextVar("tabledag_write", default=None)


class SQLTableStore(HookRegistry):
    """Tables in a SQL database; stages are schemas of views onto immutable physical tables.

    Args:
        url: database URL, e.g. `duckdb:///pipeline.duckdb` or `postgresql://u@host/db`.
        instance_id: substituted for `{instance_id}` in the URL; names the lock.
        schema_prefix / schema_suffix: wrapped around every schema name this store creates.
        print_sql: log every statement at INFO level (logger `tabledag.store`).
        **dialect_args: passed to the dialect (e.g. `create_database_if_not_exists`).
    """

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
        self.schema_prefix = schema_prefix.replace("{instance_id}", instance_id)
        self.schema_suffix = schema_suffix.replace("{instance_id}", instance_id)
        self.print_sql = print_sql
        self.dialect: Dialect = dialect_class(self.url)(self.url, **dialect_args)
        self._conn: Connection | None = None
        self._ibis: Any = None
        self._sessions = 0
        self._is_setup = False
        self._schemas: set[str] = set()
        self._lock = threading.RLock()
        self._logical: dict[tuple[str, str], tuple[str, str]] = {}
        self._columns: dict[tuple[str, str], str] = {}
        """(schema, physical table) -> columns JSON; physical tables never change, so it holds."""

    # -- identity, pickling -----------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"{type(self).__name__}({mask_url(self.url)!r})"

    def __getstate__(self) -> dict[str, Any]:
        """Only the arguments travel: a worker rebuilds connections from them."""
        return {"init_args": self._init_args}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["init_args"])  # type: ignore[misc]

    # -- connections ------------------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.dialect.connect()
        return self._conn

    @contextmanager
    def session(self, *, setup: bool = True) -> Iterator[SQLTableStore]:
        """Hold the run lock and a connection; reentrant. Closes the connection at the end.

        `setup=False` is for reading only: the metadata tables are not needed then.
        """
        with self._lock:
            outermost = self._sessions == 0
            self._sessions += 1
        try:
            if outermost:
                with self.dialect.run_lock(self.instance_id):
                    try:
                        if setup:
                            self.setup()
                        yield self
                    finally:
                        self.close()
            else:
                yield self
        finally:
            with self._lock:
                self._sessions -= 1

    def close(self) -> None:
        if self._ibis is not None:
            with suppress(Exception):  # a backend on a closed connection may complain; it's gone
                self._ibis.disconnect()
            self._ibis = None
        self._is_setup = False
        self._schemas.clear()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def execute(self, statements: exp.Expression | str | list[exp.Expression | str]) -> list[tuple]:
        """The one place SQL is rendered, logged and run.

        A single statement returns its rows. A list is sent as one script (one round trip, e.g.
        all view changes of a commit) and returns no rows.
        """
        if not isinstance(statements, list):
            statements = [statements]
        rendered = [s if isinstance(s, str) else self.dialect.render(s) for s in statements]
        if self.print_sql:
            for sql in rendered:
                logger.info("SQL: %s", sql)
        if len(rendered) == 1:
            return self.connection.execute(rendered[0])
        if rendered:
            self.connection.execute(";\n".join(rendered))
        return []

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self.connection
        conn.begin()
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def setup(self) -> None:
        """Create the metadata schema and tables if missing (once per store object)."""
        if not self._is_setup:
            (count,) = self.execute(metadata.exists_statement(self.metadata_schema))[0]
            if count < metadata.COLUMN_COUNT:
                with self.dialect.stage_lock(self.connection, self.instance_id, "__setup__"):
                    upgrade = count > 0  # some tables exist: an older schema may lack columns
                    self.execute(metadata.create_statements(self.metadata_schema, upgrade=upgrade))
            self._is_setup = True

    def ensure_schema(self, schema: str) -> None:
        """Create `schema` if this store object has not seen it yet."""
        if schema not in self._schemas:
            self.execute(self.dialect.create_schema(schema))
            self._schemas.add(schema)

    # -- names ------------------------------------------------------------------------------------

    @property
    def metadata_schema(self) -> str:
        return self.schema_name(metadata.SCHEMA)

    def schema_name(self, stage: str) -> str:
        name = f"{self.schema_prefix}{stage}{self.schema_suffix}"
        return naming.fit_identifier(name, self.dialect.max_identifier_bytes)

    def data_schema_name(self, stage: str) -> str:
        name = naming.physical_schema(f"{self.schema_prefix}{stage}{self.schema_suffix}")
        return naming.fit_identifier(name, self.dialect.max_identifier_bytes)

    def physical(self, ref: Table) -> exp.Table:
        """Where a stored table's data lives."""
        if ref.key is None or ref.stage is None or ref.name is None:
            raise StoreError(f"{ref!r} is not a stored table")
        schema = self.data_schema_name(ref.stage)
        name = naming.physical_table(ref.name, ref.key, self.dialect.max_identifier_bytes)
        self._logical[(schema, name)] = (self.schema_name(ref.stage), self.view_name(ref.name))
        return table(schema, name)

    def view_name(self, name: str) -> str:
        return naming.fit_identifier(name, self.dialect.max_identifier_bytes)

    # -- stage lifecycle (called by the runner) --------------------------------------------------

    @contextmanager
    def stage(self, stage: str) -> Iterator[StageRun]:
        """Lock a stage and load what is committed; the runner calls `commit_stage` on success.

        Where the dialect says so (`writes_in_stage_transaction`), the stage's physical writes
        share one transaction with its commit: one durable flush per stage instead of one per
        table. A failed stage still commits its physical tables (not its views), so its partial
        output stays inspectable, as on every other dialect.
        """
        with self.dialect.stage_lock(self.connection, self.instance_id, stage):
            run = self._load_stage(stage)
            if not self.dialect.writes_in_stage_transaction:
                yield run
                return
            self.connection.begin()
            run.in_transaction = True
            try:
                yield run
            finally:
                if run.in_transaction:  # the stage failed: keep its tables, not its views
                    self.connection.commit()

    def _load_stage(self, stage: str) -> StageRun:
        queries = metadata.select_statements(self.metadata_schema, stage)
        state = metadata.StageState()
        for (generation,) in self.execute(queries["stages"]):
            state.generation = generation
        data_schema = self.data_schema_name(stage)
        for row in self.execute(queries["tables"]):
            table_row = state.tables[row[0]] = metadata.TableRow(*row)
            if table_row.columns:
                self._columns[(data_schema, table_row.physical)] = table_row.columns
        for task, task_key, outputs, generation in self.execute(queries["tasks"]):
            state.tasks[(task, task_key)] = (outputs, generation)
        existing = {row[0] for row in self.execute(self.dialect.list_tables(data_schema))}
        return StageRun(stage, self.schema_name(stage), data_schema, state, existing)

    def cached_task_outputs(self, run: StageRun, task: str, task_key: str) -> str | None:
        """The outputs JSON of a committed task run, if all its tables are still kept."""
        entry = run.state.tasks.get((task, task_key))
        if entry is None:
            return None
        keys = _table_keys(json.loads(entry[0]))
        return entry[0] if all(key in run.state.tables for key in keys) else None

    def store_output(
        self, run: StageRun, table: Table, input_key: str, *, force: bool = False
    ) -> Stored:
        """Write one task output, or find it kept under the same key (unless `force`)."""
        write = _Write(run, input_key, force)
        token = _current_write.set(write)
        try:
            self.materialize(table, run.stage)
        finally:
            _current_write.reset(token)
        if write.result is None:
            raise StoreError(
                f"the table hook for {type(table.obj).__name__} wrote nothing for {table.name!r}"
            )
        return Stored(write.result, write.hit, write.sql)

    def reuse_output(self, run: StageRun, ref: Table) -> None:
        """Show a cached table in this run's stage (a versioned task that did not run)."""
        self._claim_view(run, run.state.tables[ref.key])  # type: ignore[index]

    def record_task(
        self, run: StageRun, task: str, task_key: str, outputs: str, inputs: str
    ) -> None:
        run.tasks[(task, task_key)] = (outputs, inputs)

    def commit_stage(self, run: StageRun) -> bool:
        """Make this run's views the stage's views, atomically. Returns False if nothing changed."""
        committed = run.state.views
        changed = {
            name: row
            for name, row in run.views.items()
            if name not in committed or committed[name].key != row.key
        }
        removed = [name for name in committed if name not in run.views]
        new_tasks = [k for k in run.tasks if k not in run.state.tasks]
        kept_keys = [r.key for r in run.views.values() if r.key not in run.created]
        if not (changed or removed or new_tasks or run.created) and all(
            run.state.tables[k].generation == run.state.generation for k in kept_keys
        ):
            return False
        generation = run.state.generation + 1
        self.ensure_schema(run.schema)
        statements: list[exp.Expression | str] = []
        for name in removed:
            statements += self.dialect.drop_view(table(run.schema, name))
        for name, row in changed.items():
            target = table(run.data_schema, row.physical)
            statements += self.dialect.point_view(table(run.schema, name), target)
        statements += metadata.commit_statements(
            self.metadata_schema,
            run.stage,
            generation,
            new_tables=[r for r in run.created.values() if r.view_name in run.views],
            kept_keys=kept_keys,
            new_tasks=[(t, k, *run.tasks[(t, k)]) for t, k in new_tasks],
            kept_tasks=[k for k in run.tasks if k in run.state.tasks],
        )
        if run.in_transaction:
            self.execute(statements)
            self.connection.commit()
            run.in_transaction = False
        else:
            with self.transaction():
                self.execute(statements)
        self._collect_garbage(run, generation)
        return True

    def _collect_garbage(self, run: StageRun, generation: int) -> None:
        """Drop physical tables neither this generation nor the previous one shows."""
        keep = {r.physical for r in run.views.values()}
        keep |= {r.physical for r in run.state.tables.values() if r.generation >= generation - 1}
        doomed = (run.existing | {r.physical for r in run.created.values()}) - keep
        for physical in sorted(doomed):
            self.execute(self.dialect.drop_table(table(run.data_schema, physical)))
        self.execute(metadata.forget_statements(self.metadata_schema, run.stage, generation - 1))

    # -- writing (called by table hooks) ----------------------------------------------------------

    def materialize(self, table: Table, stage_name: str) -> None:
        """Write `table` through the hook for its object's type (hooks may delegate here)."""
        hook = self.hook_for_materialize(type(table.obj))
        hook.materialize(self, table, stage_name)

    def write_query(
        self,
        table_: Table,
        stage_name: str,
        query: exp.Query | Callable[[], exp.Query],
        ibis_schema: Any = None,
        fingerprint: str | None = None,
    ) -> None:
        """Write a lazy output: `CREATE TABLE AS` unless a table with the same key is kept.

        `query` may be a function that builds the tree: with a `fingerprint` (a stable digest of
        the object the query comes from) a kept table is found without building it.
        `ibis_schema`, where the hook knows it, saves a catalog query when the table is read
        back as an ibis input.
        """
        write = self._write_context(table_)
        run = write.run
        found_by = None
        if fingerprint is not None:
            found_by = stable_hash(
                "fingerprint", run.stage, table_.name, write.input_key, fingerprint
            )
            row = run.state.by_fingerprint.get(found_by)
            if row is not None:  # the fingerprint key includes stage, name and inputs
                write.sql = row.sql
                self._write(write, table_, row.key, None)
                return
        if callable(query):
            query = query()
        sql = write.sql = self.canonical_sql(query)
        key = stable_hash("lazy", run.stage, table_.name, write.input_key, sql)
        columns = _columns_json(ibis_schema)

        def create(target: exp.Table) -> list:
            return self.dialect.create_table_as(target, query)

        self._write(write, table_, key, create, columns, found_by, sql)

    def write_raw_sql(self, table_: Table, stage_name: str, sql: str) -> None:
        write = self._write_context(table_)
        text = write.sql = " ".join(sql.split())
        key = stable_hash("raw", write.run.stage, table_.name, write.input_key, text)
        self._write(
            write, table_, key, lambda t: [f"CREATE TABLE {self.dialect.render(t)} AS {sql}"]
        )

    def write_arrow(self, table_: Table, stage_name: str, data: pa.Table) -> None:
        """Write an eager output through the dialect's bulk path, keyed by a hash of the data."""
        write = self._write_context(table_)
        if data.num_columns == 0:
            raise StoreError(f"table {table_.name!r} has no columns; a table needs at least one")
        data = self.dialect.prepare_arrow(data)
        salt = write.input_key if write.force else None  # the runner salts input keys to force
        key = stable_hash("eager", write.run.stage, table_.name, arrow_hash(data), salt)

        def load(target: exp.Table) -> list:
            if self.print_sql:
                logger.info("LOAD %d rows into %s", data.num_rows, self.dialect.render(target))
            self.connection.write_arrow(target.db, target.name, data)
            return []

        columns = None
        if "ibis" in sys.modules:  # cheap only where ibis is loaded anyway
            import ibis

            columns = _columns_json(ibis.Schema.from_pyarrow(data.schema))
        self._write(write, table_, key, load, columns)

    def _write_context(self, table_: Table) -> _Write:
        write = _current_write.get()
        if write is None:
            raise StoreError(
                f"cannot write {table_.name!r} outside a running task: "
                "store.materialize is for table hooks while a flow runs"
            )
        return write

    def _write(
        self,
        write: _Write,
        table_: Table,
        key: str,
        build: Any,
        columns: str | None = None,
        fingerprint: str | None = None,
        sql: str | None = None,
    ) -> None:
        run = write.run
        assert table_.name is not None
        row = run.state.tables.get(key) or run.created.get(key)
        write.hit = row is not None
        if row is None:
            physical = naming.physical_table(table_.name, key, self.dialect.max_identifier_bytes)
            row = metadata.TableRow(
                key,
                table_.name,
                self.view_name(table_.name),
                physical,
                0,
                columns,
                fingerprint,
                sql,
            )
            target = table(run.data_schema, physical)
            self.ensure_schema(run.data_schema)
            if physical in run.existing:  # left behind by a failed run
                self.execute(self.dialect.drop_table(target))
                run.existing.discard(physical)
            try:
                self.execute(build(target))
                self._add_constraints(table_, target)
            except Exception as error:
                raise StoreError(
                    f"writing table {table_.name!r} of stage {run.stage!r} failed: "
                    f"{type(error).__name__}: {mask_url(str(error))}"
                ) from error
            run.created[key] = row
            if columns:
                self._columns[(run.data_schema, physical)] = columns
        self._claim_view(run, row)
        write.result = table_.stored(run.stage, key)
        self.physical(write.result)  # registers the logical name for canonical SQL

    def _claim_view(self, run: StageRun, row: metadata.TableRow) -> None:
        from ...errors import DuplicateNameError

        other = run.views.get(row.view_name)
        if other is not None and other.key != row.key:
            raise DuplicateNameError(
                f"stage {run.stage!r} already has a table named {row.name!r}; "
                "give one of them another name with Table(obj, name=...)"
            )
        run.views[row.view_name] = row

    def _add_constraints(self, table_: Table, target: exp.Table) -> None:
        if table_.primary_key:
            self.execute(self.dialect.add_primary_key(target, list(table_.primary_key)))
        for i, columns in enumerate(table_.indexes or ()):
            name = naming.fit_identifier(f"{target.name}_idx{i}", self.dialect.max_identifier_bytes)
            self.execute(self.dialect.create_index(target, name, list(columns)))

    # -- reading (called by table hooks and the runner) ------------------------------------------

    def retrieve(
        self, table: Table, stage_name: str | None, as_type: Any, limit: int | None = None
    ) -> Any:
        """Read a stored table as `as_type` through the matching hook."""
        hook = self.hook_for_retrieve(as_type)
        return hook.retrieve(self, table, stage_name or table.stage, as_type, limit)

    def read_arrow(self, ref: Table, limit: int | None = None) -> pa.Table:
        query = exp.select("*").from_(self.physical(ref))
        if limit is not None:
            query = query.limit(limit)
        return self.connection.read_arrow(self.dialect.render(query))

    @property
    def ibis(self) -> Any:
        """The ibis backend on this store's connection."""
        if self._ibis is None:
            self._ibis = self.dialect.ibis_backend(self.connection)
        return self._ibis

    def ibis_table(self, ref: Table) -> Any:
        """An ibis table on the physical table, built from known columns where possible."""
        import ibis.expr.operations as ops

        target = self.physical(ref)
        columns = self._columns.get((target.db, target.name))
        if columns is None:
            expr = self.ibis.table(target.name, database=target.db)
            self._columns[(target.db, target.name)] = _columns_json(expr.schema())
            return expr
        schema = _ibis_schema(columns)
        namespace = ops.Namespace(database=target.db)
        return ops.DatabaseTable(target.name, schema, self.ibis, namespace).to_expr()

    def columns(self, ref: Table) -> list[tuple[str, str]]:
        """(name, SQL type) of a stored table's columns, in order."""
        target = self.physical(ref)
        query = (
            exp.select("column_name", "data_type")
            .from_("information_schema.columns")
            .where(exp.column("table_schema").eq(exp.Literal.string(target.db)))
            .where(exp.column("table_name").eq(exp.Literal.string(target.name)))
            .order_by("ordinal_position")
        )
        return [(name, type_) for name, type_ in self.execute(query)]

    # -- SQL identity -----------------------------------------------------------------------------

    def canonical_sql(self, query: exp.Expression) -> str:
        """`query` as canonical SQL: logical table names, deterministic, runnable here."""
        return canonical_sql(query, self.dialect.sqlglot, self._logical)

    def lazy_query_str(self, obj: Any) -> str:
        """The canonical SQL of a lazy task output: its cache identity, and a debugging aid."""
        if isinstance(obj, Table):
            obj = obj.obj
        hook = self.hook_for_materialize(type(obj))
        return hook.lazy_query_str(self, obj)

    def parse_sql(self, sql: str) -> exp.Query:
        """Parse SQL text in this store's dialect into a query tree."""
        import sqlglot

        tree = sqlglot.parse_one(sql, read=self.dialect.sqlglot)
        if not isinstance(tree, exp.Query):
            raise StoreError(f"expected a SELECT query, got: {sql[:200]}")
        return tree


@functools.lru_cache(maxsize=4096)
def _ibis_schema(columns_json: str) -> Any:
    """Parsing dtype strings costs ~0.1 ms a column; a table's columns never change."""
    import ibis

    return ibis.schema(json.loads(columns_json))


def _columns_json(ibis_schema: Any) -> str | None:
    if ibis_schema is None:
        return None
    return json.dumps([[name, str(dtype)] for name, dtype in ibis_schema.items()])


def _table_keys(outputs: Any) -> list[str]:
    """The table keys in an outputs JSON structure."""
    if isinstance(outputs, dict):
        if "$table" in outputs:
            return [outputs["$table"]["key"]]
        return [k for v in outputs.values() for k in _table_keys(v)]
    if isinstance(outputs, list):
        return [k for v in outputs for k in _table_keys(v)]
    return []
