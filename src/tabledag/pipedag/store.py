"""`cfg.store.table_store`: what pipedag programs reach for on a config's store.

pipedag's examples query the database themselves: `sa.inspect(cfg.store.table_store.engine)`,
`with table_store.engine_connect() as conn: conn.execute(...)`, `table_store.execute(sql)`,
`table_store.get_stage_hash(stage)`, `table_store.retrieve_table_obj(tbl, as_type=...)`.
tabledag's stores talk to their databases through their own drivers, so this view makes a
SQLAlchemy engine of the store's URL on first use (SQLAlchemy is a tabledag dependency; DuckDB
URLs also need `duckdb-engine`). Nothing in tabledag itself uses it.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, StoreError
from ..outputs import TableRef, normalize_name

if TYPE_CHECKING:
    from ..config import Config


class PipedagStore:
    """pipedag's `PipeDAGStore`: `.table_store` and `.blob_store` of one config."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self.table_store = TableStoreView(config.store_object)

    @property
    def blob_store(self) -> Any:
        blobs = self._config.blob_store_object
        if blobs is None:
            raise ConfigError(
                f"instance {self._config.instance_id!r} has no blob store: add "
                "`blob_store: {class: tabledag.FileBlobStore, args: {base_path: ...}}`"
            )
        return blobs

    def __getattr__(self, name: str) -> Any:
        # tabledag's own store API stays reachable through pipedag's object
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._config.store_object, name)


class TableStoreView:
    """pipedag's `SQLTableStore` surface over a tabledag store."""

    def __init__(self, store: Any) -> None:
        self._store = store

    @property
    def schema_prefix(self) -> str:
        return str(getattr(self._store, "schema_prefix", ""))

    @property
    def schema_suffix(self) -> str:
        return str(getattr(self._store, "schema_suffix", ""))

    @property
    def engine(self) -> Any:
        """A SQLAlchemy engine on the store's database (no pool: connections close)."""
        engine = self._store.sqlalchemy_engine()
        if engine is None:
            raise StoreError(
                f"{type(self._store).__name__} offers no SQLAlchemy engine: it has no database "
                "URL, or SQLAlchemy has no dialect installed for it (for DuckDB install "
                "duckdb-engine)"
            )
        return engine

    @contextlib.contextmanager
    def engine_connect(self) -> Iterator[Any]:
        """A connection that commits what it did when the block ends without an error."""
        with self.engine.connect() as connection:
            yield connection
            connection.commit()

    def execute(self, query: Any, *, conn: Any = None) -> Any:
        """Run one statement (SQL text or a SQLAlchemy clause) in a transaction of its own."""
        import sqlalchemy as sa

        statement = sa.text(query) if isinstance(query, str) else query
        if conn is not None:
            return conn.execute(statement)
        with self.engine.begin() as connection:
            return connection.execute(statement)

    def get_stage_hash(self, stage: Any) -> str:
        """A hash of what the stage holds as last committed: it changes when any of the
        stage's tables changes (every table is named by the key of its content)."""
        committed = self._committed(stage)
        keys = sorted(f"{view}={record.key}" for view, record in committed.items())
        return hashlib.blake2s("\n".join(keys).encode(), digest_size=16).hexdigest()

    def retrieve_table_obj(self, table: Any, as_type: Any = None) -> Any:
        """A committed table of `table.stage` named `table.name`, as `as_type`."""
        stage = _stage_name(getattr(table, "stage", None))
        name = normalize_name(str(table.name))
        with self._store.session() as session:  # one session finds the table and reads it
            record = _committed_views(session, stage).get(name)
            if record is None:
                raise StoreError(
                    f"stage {stage!r} has no committed table {name!r}: run the flow that "
                    "writes it first"
                )
            return session.retrieve(TableRef(stage, record.name, record.key), stage, as_type)

    def store_table(self, table: Any, task: Any = None) -> None:
        raise StoreError(
            f"table {getattr(table, 'name', table)!r}: tabledag writes tables only from tasks; "
            "return the table from a task, or call Table(obj, name).materialize() in one"
        )

    def _committed(self, stage: Any) -> dict[str, Any]:
        with self._store.session() as session:
            return _committed_views(session, _stage_name(stage))


def _committed_views(session: Any, stage: str) -> dict[str, Any]:
    """view name -> record of the stage as last committed; empty before any commit."""
    try:
        return dict(session.begin_stage(stage).committed.views)
    except StoreError:
        return {}  # nothing committed yet (no metadata)


def _stage_name(stage: Any) -> str:
    if stage is None:
        raise StoreError("the table has no stage: set `table.stage = stage` first")
    return normalize_name(str(getattr(stage, "name", stage)))
