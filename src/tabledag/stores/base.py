"""The store contract: everything the runner and the table hooks may use of a table store.

```
TableStore                 configuration, hook registry, locks; pickles by its arguments
  .open_session()  ──►  StoreSession   one connection (a cursor per thread on DuckDB, a connection
                                       per worker on Postgres); all reads and writes go here
  .locks(timeout)  ──►  Locks          the instance's locks, an object of its own (locks/)
```

A run goes: `locks.run()` ► per stage: `locks.stage(s)` ► `session.begin_stage(s)` → `StageRun`
► per task: `session.cached_task` / `session.materialize` + `session.write` → `Stored`, merged
into the `StageRun` by the runner ► `session.commit_stage(run)` ► `session.collect_garbage`.
The `StageRun` belongs to the runner: the session reads it and never changes it.

Hooks turn a task's output into one of three values and never write themselves: `Lazy` (a query
the database runs), `Eager` (Arrow data in memory), `Raw` (verbatim SQL). What a store can give
beyond Arrow is declared in `capabilities`, not discovered by `isinstance` on a concrete class.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import DuplicateNameError, StoreError
from ..outputs import Table, TableRef

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from ..cache.keys import Key
    from ..hooks.base import TableHook
    from ..locks import Locks


class Capability(enum.Enum):
    """What a store can give besides Arrow data (which every store gives)."""

    SQL = "sql"
    """Runs lazy queries; gives `sqlglot` references, SQL text and SQLAlchemy tables."""
    IBIS = "ibis"
    """Gives ibis tables bound to the session's connection."""
    ARROW_FILES = "arrow_files"
    """Keeps tables as parquet files that frame libraries can read directly."""


# -- what hooks hand to the store -------------------------------------------------------------


@dataclass(frozen=True)
class Lazy:
    """A query for the store's database to run.

    `build` may defer building the tree: with a `fingerprint` (a stable digest of the object
    the query comes from) a kept table is found without building it. `columns`, where the hook
    knows them, are `(name, SQL type in the store's dialect)` pairs. `owned`: `build` returns a
    new tree on each call (parsed text), which the store may render without sqlglot's
    defensive copy; a tree the user or a cache also holds is not owned.
    """

    build: Callable[[], exp.Query]
    fingerprint: str | None = None
    columns: tuple[tuple[str, str], ...] | None = None
    owned: bool = False

    @staticmethod
    def of(query: exp.Query) -> Lazy:
        return Lazy(lambda: query)


@dataclass(frozen=True)
class Eager:
    """Arrow data to load; `frame`, where given, is the frame it came from, for a store that
    writes that library's frames natively (the parquet store writes polars frames with polars,
    whose writer is several times faster than pyarrow's)."""

    data: pa.Table
    frame: Any = None


@dataclass(frozen=True)
class Raw:
    """A SELECT statement to run verbatim."""

    sql: str


Output = Lazy | Eager | Raw


def arrow_table_type() -> type[pa.Table]:
    """`pyarrow.Table`: what every store reads a table as, so the input type where a reader
    names none. Imported on use, here in the contract, so that the core never names it."""
    import pyarrow as pa

    return pa.Table


@dataclass(frozen=True)
class TableFiles:
    """Where a table's files are, for stores with `Capability.ARROW_FILES`."""

    paths: tuple[str, ...]
    filesystem: Any
    """An fsspec / pyarrow filesystem the paths are relative to (None for local paths)."""
    storage_options: dict[str, Any] = field(default_factory=dict)
    """For polars' `scan_parquet` / `read_parquet`."""


# -- what the store records --------------------------------------------------------------------


@dataclass(frozen=True)
class TableRecord:
    """One kept physical table: its key, where it is shown and where its data lives."""

    key: str
    name: str
    view_name: str
    physical: str
    generation: int = 0
    columns: str | None = None
    """JSON `[[name, SQL type], ...]` in the store's dialect, where known."""
    fingerprint: str | None = None
    """The fingerprint key that found this table without compiling its query."""
    sql: str | None = None
    """The query that built it, as it ran."""

    def ref(self, stage: str) -> TableRef:
        return TableRef(stage, self.name, self.key)


@dataclass(frozen=True)
class TaskRecord:
    """A task's outputs (JSON of its return value) and inputs (JSON list of table keys)."""

    task: str
    task_key: str
    outputs: str
    inputs: str
    generation: int = 0


@dataclass(frozen=True)
class CommittedStage:
    """What the store holds for one stage when a run begins it."""

    stage: str
    generation: int = 0
    tables: dict[str, TableRecord] = field(default_factory=dict)
    """key -> record, for every kept physical table that exists."""
    tasks: dict[tuple[str, str], TaskRecord] = field(default_factory=dict)
    """(task, task key) -> record."""
    physical: frozenset[str] = frozenset()
    """Every physical table present when the stage began (including orphans)."""

    @property
    def views(self) -> dict[str, TableRecord]:
        """view name -> record, for the committed generation."""
        return {r.view_name: r for r in self.tables.values() if r.generation == self.generation}


@dataclass(frozen=True)
class Stored:
    """What writing one output gave: where it is, and whether it was already kept."""

    ref: TableRef
    record: TableRecord
    hit: bool
    rows: int | None = None
    """Rows and bytes of data loaded from memory (unknown for a query's table)."""
    bytes: int | None = None


@dataclass(frozen=True)
class TableStats:
    """One shown table of a committed stage, as `tabledag status` lists it."""

    name: str
    physical: str
    key: str
    rows: int | None = None
    bytes: int | None = None
    """Where the store knows it without reading the data (None: unknown)."""


@dataclass(frozen=True)
class RunRecord:
    """What one run did, as the store keeps it: a few columns to find it by, and the rest as
    one JSON document (`tabledag.core.records` writes and reads it; the store only keeps it).
    """

    run_id: str
    flow: str
    started_at: float
    """Seconds since the epoch (UTC)."""
    duration: float
    """Seconds."""
    successful: bool
    document: str
    """JSON: per task its state, start, duration, tables (rows, bytes, cache hits), SQL and
    error; see `tabledag.core.records`."""


@dataclass
class StageRun:
    """One stage while it runs; owned and changed by the runner only."""

    committed: CommittedStage
    views: dict[str, TableRecord] = field(default_factory=dict)
    """view name -> record, as this run will commit them."""
    created: dict[str, TableRecord] = field(default_factory=dict)
    """key -> record, for tables this run wrote."""
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    """task name -> record, for tasks to record at commit."""
    owners: dict[str, str] = field(default_factory=dict)
    """view name -> the task that claimed it."""

    @property
    def stage(self) -> str:
        return self.committed.stage

    def known(self, key: str) -> TableRecord | None:
        """The record of a table with this key, kept or written in this run."""
        return self.committed.tables.get(key) or self.created.get(key)

    def by_fingerprint(self, fingerprint: str) -> TableRecord | None:
        for record in (*self.created.values(), *self.committed.tables.values()):
            if record.fingerprint == fingerprint:
                return record
        return None

    def claim(self, view_name: str, owner: str) -> None:
        """Refuse a second table under one name before anything is written."""
        other = self.owners.setdefault(view_name, owner)
        if other != owner:
            raise DuplicateNameError(
                f"stage {self.stage!r} already has a table named {view_name!r} (from task "
                f"{other!r}); give one of them another name with Table(obj, name=...)"
            )

    def add(self, stored: Stored) -> None:
        record = stored.record
        self.views[record.view_name] = record
        if not stored.hit:
            self.created[record.key] = record


# -- the contract -------------------------------------------------------------------------------


class StoreSession(ABC):
    """One connection to a store. Hooks receive a session as their `store` argument."""

    store: TableStore

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.store.capabilities

    # stage lifecycle (the runner) -----------------------------------------------------------

    def setup(self, locks: Locks) -> None:
        """Prepare the store for a run (e.g. create metadata tables); once per run."""

    @abstractmethod
    def begin_stage(self, stage: str) -> StageRun:
        """Load what is committed for `stage` (the caller holds its stage lock)."""

    @abstractmethod
    def write(
        self, run: StageRun, table: Table, output: Output, task_key: Key, force: str | None
    ) -> Stored:
        """Store one output of a task, or find it kept under the same key."""

    def cached_task(self, run: StageRun, task: str, task_key: str) -> TaskRecord | None:
        """A committed run of `task` with this key whose tables are all still kept."""
        from ..cache.values import loads, table_refs

        record = run.committed.tasks.get((task, task_key))
        if record is None:
            return None
        refs = table_refs(loads(record.outputs))
        kept = all(r.key in run.committed.tables for r in refs if r.stage == run.stage)
        return record if kept else None

    def prepare_writers(self, run: StageRun) -> None:
        """Before other sessions write for `run` at once: make what their writes share (e.g.
        the stage's data schema), so that they do not race to make it."""

    def adopt(self, run: StageRun, stored: Stored) -> None:
        """Learn of a table another session (a worker) wrote for `run`, before committing it."""

    def reuse(self, run: StageRun, ref: TableRef) -> Stored:
        """Show a kept table again in this run (a versioned task that did not run)."""
        record = run.committed.tables[ref.key]
        return Stored(record.ref(run.stage), record, hit=True)

    @abstractmethod
    def commit_stage(self, run: StageRun) -> int | None:
        """Make this run's views the stage's, atomically; the new generation, or None if
        nothing changed."""

    @abstractmethod
    def collect_garbage(self, run: StageRun, generation: int, *, drop: bool) -> None:
        """Forget what neither `generation` nor the one before shows; with `drop`, also delete
        the physical tables no record names (the caller knows no other run may read them)."""

    # run records (the report and `tabledag status`) -----------------------------------------

    def record_run(self, record: RunRecord) -> None:
        """Keep what a run did, in one write at its end (a store that keeps nothing ignores
        it)."""

    def run_records(self, run_id: str | None = None, limit: int = 20) -> list[RunRecord]:
        """Kept runs, newest first: the one with `run_id` (a unique prefix will do), else the
        last `limit`."""
        return []

    # inspecting and cleaning an instance (`tabledag status`, `gc`, `delete-schemas`) -------
    # Read-only but for `drop_garbage` and `delete_instance`, whose callers hold the locks
    # that keep runs away (see `tabledag.cli.upkeep`).

    def committed_stages(self) -> dict[str, int]:
        """Stage name -> committed generation, for every stage that ever committed here."""
        return {}

    def stage_tables(self, stage: str) -> list[TableStats]:
        """The tables a stage shows now, with their rows and (where cheap to know) bytes."""
        return []

    def garbage(self, stage: str) -> list[str]:
        """Physical tables (or files) of `stage` that no kept record names: what a run killed
        before its commit, or a cleanup that could not drop, left behind."""
        return []

    def drop_garbage(self, stage: str, physical: Sequence[str]) -> None:
        """Drop those of `physical` that are still garbage (rechecked here)."""

    def delete_instance(self) -> list[str]:
        """Drop every schema (or directory) of this instance, the metadata last; returns what
        it dropped. (pipedag's `pipedag-manage delete-schemas`.)"""
        raise StoreError(f"{type(self.store).__name__} cannot delete its schemas")

    def create_table(self, schema: str, table: Table, output: Output) -> None:
        """Write `output` as table `schema.<table.name>`, replacing one of that name, outside
        any stage and its metadata: pipedag's interactive debugging (`materialize_table`)."""
        raise StoreError(f"{type(self.store).__name__} cannot write tables outside its stages")

    # conversion and reading (hooks and results) ---------------------------------------------

    def materialize(self, table: Table, stage_name: str) -> Output:
        """`table.obj` as a `Lazy`, `Eager` or `Raw` value, through the hook for its type."""
        hook = self.store.hook_for_materialize(type(table.obj))
        return hook.materialize(self, table, stage_name)

    def retrieve(
        self, ref: TableRef, stage_name: str | None, as_type: Any, limit: int | None = None
    ) -> Any:
        """A stored table as `as_type`, through the hook for that type."""
        hook = self.store.hook_for_retrieve(as_type)
        return hook.retrieve(self, ref, stage_name or ref.stage, as_type, limit)

    def count_rows(self, ref: TableRef) -> int:
        """The rows of a stored table (a check's total)."""
        return int(self.read_arrow(ref).num_rows)

    def query_arrow(self, output: Lazy) -> pa.Table:
        """The rows of a query (a check's counts): a store that runs SQL runs it."""
        raise StoreError(f"{type(self.store).__name__} runs no queries")

    @abstractmethod
    def read_arrow(self, ref: TableRef, limit: int | None = None) -> pa.Table:
        """A stored table's data."""

    def lazy_query_str(self, obj: Any) -> str:
        """The canonical SQL of a lazy task output."""
        if isinstance(obj, Table):
            obj = obj.obj
        hook = self.store.hook_for_materialize(type(obj))
        return hook.lazy_query_str(self, obj)

    # optional capabilities: stores that declare them override these ------------------------

    def _missing(self, capability: Capability) -> StoreError:
        return StoreError(f"{type(self.store).__name__} does not offer {capability.value} tables")

    @property
    def sqlglot_dialect(self) -> Any:
        """The sqlglot dialect (class) this store's SQL is written in."""
        raise self._missing(Capability.SQL)

    @property
    def sqlalchemy_dialect(self) -> tuple[str, str]:
        """The SQLAlchemy dialect name SQLAlchemy queries are compiled with, and the sqlglot
        dialect that reads what it prints."""
        raise self._missing(Capability.SQL)

    def sql_table(self, ref: TableRef) -> exp.Table:
        """A reference to the table that a query can select from."""
        raise self._missing(Capability.SQL)

    def column_types(self, ref: TableRef) -> list[tuple[str, str]]:
        """(name, SQL type in the store's dialect) of a stored table's columns."""
        raise self._missing(Capability.SQL)

    def render(self, expression: exp.Expr) -> str:
        raise self._missing(Capability.SQL)

    def parse_sql(self, sql: str) -> exp.Query:
        raise self._missing(Capability.SQL)

    def canonical_sql(self, query: exp.Expr | str) -> str:
        """`query` with logical table names, pretty-printed: what a person reads and runs."""
        raise self._missing(Capability.SQL)

    def logical_tree(self, query: exp.Expr) -> exp.Expr:
        """`query` with logical table names (stage views), as a tree to render elsewhere."""
        raise self._missing(Capability.SQL)

    @property
    def ibis(self) -> Any:
        """The ibis backend on this session's connection."""
        raise self._missing(Capability.IBIS)

    def ibis_table(self, ref: TableRef) -> Any:
        raise self._missing(Capability.IBIS)

    def table_files(self, ref: TableRef) -> TableFiles:
        raise self._missing(Capability.ARROW_FILES)

    @abstractmethod
    def close(self) -> None: ...


class TableStore(ABC):
    """A place for tables. Concrete stores: `SQLTableStore` (stores/sql/), and the file and
    memory stores. Hooks register on a store class and apply to its subclasses."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    instance_id: str
    _init_args: dict[str, Any]

    @property
    def shared_by_processes(self) -> bool:
        """Whether sessions in several processes may write at once (engines with workers in
        other processes need it); `one_process_reason` says why not."""
        return False

    @property
    def one_process_reason(self) -> str:
        return "its tables live in this process's memory"

    concurrent_sessions: ClassVar[bool] = True
    """Whether sessions of this store may work at the same time (threads run one task at a
    time on a store that says no)."""

    def sqlalchemy_engine(self) -> Any | None:
        """A SQLAlchemy engine on the store's database, for user code that runs its own
        queries (pydiverse.transform inputs, pipedag's `table_store.engine`); None where the
        store has no database SQLAlchemy reaches, or its dialect package is not installed."""
        return None

    @abstractmethod
    def open_session(self) -> StoreSession:
        """A new, independent session; close it when done."""

    @abstractmethod
    def locks(self, timeout: float | None = None) -> Locks:
        """The locks guarding this store's instance (see `tabledag.locks`)."""

    @contextmanager
    def session(self) -> Iterator[StoreSession]:
        """A session closed at the end of the block (a failing close never hides the error
        that ended the block)."""
        from ..locks import held

        session = self.open_session()
        with held(session.close, f"a session of {self!r}"):
            yield session

    def close(self) -> None:
        """Release what the store object holds beyond its sessions (e.g. an in-memory
        database)."""

    def canonical_sql(self, sql: Any) -> str:
        """SQL as run, as a person should read it (stores with SQL rewrite table names)."""
        return str(sql)

    def fault_point(self, phase: str, statement: str) -> None:
        """Called after each statement a session sends; does nothing.

        A test seam: a subclass may stop the process here to prove that a run killed right
        after any single statement of a phase ("write", "commit", "cleanup", ...) damages
        nothing committed.
        """

    # the hook registry, in the seed's spelling ----------------------------------------------

    @classmethod
    def register_table(
        cls, *requirements: Any
    ) -> Callable[[type[TableHook[Any]]], type[TableHook[Any]]]:
        """Decorator registering a `TableHook` for this store class and its subclasses.

        A falsy requirement (an optional import that resolved to `None`) skips registration.
        """
        from ..hooks import registry

        return registry.register(cls, *requirements)

    @classmethod
    def hook_for_materialize(cls, type_: type) -> type[TableHook[Any]]:
        from ..hooks import registry

        return registry.hook_for_materialize(cls, type_)

    @classmethod
    def hook_for_retrieve(cls, as_type: Any) -> type[TableHook[Any]]:
        from ..hooks import registry

        return registry.hook_for_retrieve(cls, as_type)

    # pickling: only the arguments travel; a worker rebuilds connections from them -----------

    def __getstate__(self) -> dict[str, Any]:
        return {"init_args": self._init_args}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["init_args"])  # type: ignore[misc]
